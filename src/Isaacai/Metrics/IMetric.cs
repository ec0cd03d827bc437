using static TorchSharp.torch;

namespace Isaacai.Metrics;

/// <summary>A metric accumulated over the batches of an epoch.</summary>
public interface IMetric
{
    void Reset();
    void Update(Tensor preds, Tensor targets);
    double Compute();
}

/// <summary>
/// A metric measured in the target's units. A regression target is learnt standardised, so
/// <see cref="Callbacks.MetricsCB"/> sets <see cref="Scale"/> to the target's std before each fit.
/// </summary>
public interface IMetricInTargetUnits : IMetric
{
    double Scale { get; set; }
}

/// <summary>The metrics known by name, for hosts that pick them by name (such as PowerShell).</summary>
public static class MetricNames
{
    private static readonly Dictionary<string, Func<IMetric>> Factories = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Accuracy"] = () => new MulticlassAccuracy(),
        ["MulticlassAccuracy"] = () => new MulticlassAccuracy(),
        ["F1"] = () => new MacroF1(),
        ["Rmse"] = () => new Rmse(),
        ["Mae"] = () => new Mae(),
    };

    public static IReadOnlyCollection<string> All => Factories.Keys;

    /// <summary>What a task is usually judged by: accuracy and F1 for classes; RMSE and MAE for a number.</summary>
    public static IEnumerable<KeyValuePair<string, IMetric>> ForTarget(Data.TargetSpec target) =>
        (target.Task == Data.TaskKind.Classification ? ["Accuracy", "F1"] : new[] { "Rmse", "Mae" })
            .Select(name => KeyValuePair.Create(name, Create(name)));

    public static IMetric Create(string name) => Factories.TryGetValue(name, out var create)
        ? create()
        : throw new ArgumentException($"'{name}' is not a known metric; valid metrics are: {string.Join(", ", All)}.", nameof(name));
}
