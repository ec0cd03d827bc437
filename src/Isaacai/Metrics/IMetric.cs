using static TorchSharp.torch;

namespace Isaacai.Metrics;

/// <summary>A metric accumulated over the batches of an epoch.</summary>
public interface IMetric
{
    void Reset();
    void Update(Tensor preds, Tensor targets);
    double Compute();
}

/// <summary>The metrics known by name, for hosts that pick them by name (such as PowerShell).</summary>
public static class MetricNames
{
    private static readonly Dictionary<string, Func<IMetric>> Factories = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Accuracy"] = () => new MulticlassAccuracy(),
        ["MulticlassAccuracy"] = () => new MulticlassAccuracy(),
    };

    public static IReadOnlyCollection<string> All => Factories.Keys;

    public static IMetric Create(string name) => Factories.TryGetValue(name, out var create)
        ? create()
        : throw new ArgumentException($"'{name}' is not a known metric; valid metrics are: {string.Join(", ", All)}.", nameof(name));
}
