using static TorchSharp.torch;

namespace Isaacai;

/// <summary>Makes an optimizer over parameters at a learning rate: the seed's <c>opt_func</c>.</summary>
public delegate optim.Optimizer OptimizerFactory(IEnumerable<TorchSharp.Modules.Parameter> parameters, double lr);

/// <summary>Optimizers and losses known by name, for hosts that pick them by name.</summary>
public static class Optimizers
{
    private static readonly Dictionary<string, OptimizerFactory> Factories = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Adam"] = (parameters, lr) => optim.Adam(parameters, lr),
        ["AdamW"] = (parameters, lr) => optim.AdamW(parameters, lr),
        ["SGD"] = (parameters, lr) => optim.SGD(parameters, lr),
        ["RMSprop"] = (parameters, lr) => optim.RMSProp(parameters, lr),
    };

    public static OptimizerFactory Adam => Factories["Adam"];
    public static OptimizerFactory SGD => Factories["SGD"];
    public static IReadOnlyCollection<string> Names => Factories.Keys;

    public static OptimizerFactory FromName(string name) => Factories.TryGetValue(name, out var factory)
        ? factory
        : throw new ArgumentException($"'{name}' is not a known optimizer; valid optimizers are: {string.Join(", ", Names)}.", nameof(name));
}

public static class Losses
{
    private static readonly Dictionary<string, Func<nn.Module<Tensor, Tensor, Tensor>>> Factories = new(StringComparer.OrdinalIgnoreCase)
    {
        ["CrossEntropy"] = () => nn.CrossEntropyLoss(),
        ["NLL"] = () => nn.NLLLoss(),
        ["MSE"] = () => nn.MSELoss(),
        ["L1"] = () => nn.L1Loss(),
        ["BCEWithLogits"] = () => nn.BCEWithLogitsLoss(),
    };

    public static IReadOnlyCollection<string> Names => Factories.Keys;

    /// <summary>The usual loss of a task: cross-entropy for classes, mean squared error for a number.</summary>
    public static nn.Module<Tensor, Tensor, Tensor> ForTarget(Data.TargetSpec target) =>
        FromName(target.Task == Data.TaskKind.Classification ? "CrossEntropy" : "MSE");

    public static nn.Module<Tensor, Tensor, Tensor> FromName(string name) => Factories.TryGetValue(name, out var create)
        ? create()
        : throw new ArgumentException($"'{name}' is not a known loss function; valid losses are: {string.Join(", ", Names)}.", nameof(name));
}
