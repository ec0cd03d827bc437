using Isaacai.Models;
using static TorchSharp.torch;

namespace Isaacai;

/// <summary>Makes an optimizer over parameters at a learning rate: the seed's <c>opt_func</c>.</summary>
public delegate optim.Optimizer OptimizerFactory(IEnumerable<TorchSharp.Modules.Parameter> parameters, double lr);

/// <summary>Optimizers and losses known by name, for hosts that pick them by name.</summary>
public static class Optimizers
{
    // Adam, AdamW and SGD step each parameter group as one flat tensor (Optimization/); TorchSharp's own stay
    // available under their TorchSharp. names, and their saved states load into each other.
    private static readonly Dictionary<string, OptimizerFactory> Factories = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Adam"] = (parameters, lr) => new Optimization.Adam(parameters, lr),
        ["AdamW"] = (parameters, lr) => new Optimization.AdamW(parameters, lr),
        ["SGD"] = (parameters, lr) => new Optimization.SGD(parameters, lr),
        ["RMSprop"] = (parameters, lr) => optim.RMSProp(parameters, lr),
        ["TorchSharp.Adam"] = (parameters, lr) => optim.Adam(parameters, lr),
        ["TorchSharp.AdamW"] = (parameters, lr) => optim.AdamW(parameters, lr),
        ["TorchSharp.SGD"] = (parameters, lr) => optim.SGD(parameters, lr),
    };

    public static OptimizerFactory Adam => Factories["Adam"];
    public static OptimizerFactory SGD => Factories["SGD"];
    public static IReadOnlyCollection<string> Names => Factories.Keys;

    public static OptimizerFactory FromName(string name) => Factories.TryGetValue(name, out var factory)
        ? factory
        : throw new ArgumentException($"'{name}' is not a known optimizer; valid optimizers are: {string.Join(", ", Names)}.", nameof(name));

    /// <summary>
    /// The optimizer of a fit over the model's trainable parameters; a frozen parameter is left out, so no step,
    /// weight decay or Adam moment can move it. With <paramref name="lrMultipliers"/> (one per parameter group of
    /// an <see cref="IHasParameterGroups"/> model, body first) each group gets its own TorchSharp parameter group at
    /// <paramref name="lr"/> × its multiplier, and <see cref="Schedules.OptimizerSettings.SetLr"/> keeps those
    /// ratios; a group with nothing trainable is left out.
    /// </summary>
    public static optim.Optimizer Create(OptimizerFactory factory, nn.Module model, double lr, IReadOnlyList<double>? lrMultipliers = null)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(model);
        if (lrMultipliers is null) return factory(model.parameters().Where(p => p.requires_grad).ToList(), lr);

        var groups = (model as IHasParameterGroups)?.ParameterGroups
            ?? throw new ArgumentException($"Discriminative learning rates need a model split into parameter groups (IHasParameterGroups); a {model.GetName()} is not.", nameof(model));
        if (groups.Count != lrMultipliers.Count)
            throw new ArgumentException($"{lrMultipliers.Count} learning-rate multiplier(s) for the {groups.Count} parameter groups of this model ({string.Join(", ", groups.Select(g => g.Name))}).", nameof(lrMultipliers));
        var trainable = groups.Select((group, i) => (Parameters: group.Parameters.Where(p => p.requires_grad).ToList(), Multiplier: lrMultipliers[i]))
                              .Where(g => g.Parameters.Count > 0).ToList();
        if (trainable.Count == 0) return factory([], lr);

        // The factory makes the optimizer (its kind, betas, weight decay) over the first group; the others join it.
        var optimizer = factory(trainable[0].Parameters, lr * trainable[0].Multiplier);
        foreach (var (parameters, multiplier) in trainable.Skip(1)) AddGroup(optimizer, parameters, lr * multiplier);
        Schedules.OptimizerSettings.SetLrMultipliers(optimizer, trainable.Select(g => g.Multiplier).ToArray());
        return optimizer;
    }

    /// <summary>
    /// Adds a parameter group to an optimizer made by any factory. TorchSharp's optimizers each cast their groups to
    /// their own nested <c>ParamGroup</c> type when they step, so the group is made of that type; its other settings
    /// come from the optimizer's defaults (add_param_group fills in what is unset).
    /// </summary>
    private static void AddGroup(optim.Optimizer optimizer, List<TorchSharp.Modules.Parameter> parameters, double lr)
    {
        var type = BaseTypes(optimizer.GetType()).Select(t => t.GetNestedType("ParamGroup")).FirstOrDefault(t => t is not null);
        if (type is null || !typeof(TorchSharp.Modules.ParamGroup).IsAssignableFrom(type) || type.GetConstructor(Type.EmptyTypes) is null)
            throw new NotSupportedException($"Discriminative learning rates need an optimizer with parameter groups; {optimizer.GetType().Name} has no ParamGroup type to add one.");
        var group = (TorchSharp.Modules.ParamGroup)Activator.CreateInstance(type)!;
        group.Parameters = parameters;
        optimizer.add_param_group(group);
        group.LearningRate = group.InitialLearningRate = lr;
    }

    // An optimizer of Optimization/ inherits its ParamGroup type from TorchSharp's.
    private static IEnumerable<Type> BaseTypes(Type? type)
    {
        for (; type is not null; type = type.BaseType) yield return type;
    }
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
