using static TorchSharp.torch;

namespace Isaacai.Models;

/// <summary>Whether a layer's parameters train: all of them, none (frozen), some, or it has none.</summary>
public enum LayerTraining { NoParameters, Trainable, Frozen, Partly }

/// <summary>One layer of a <see cref="ModelSummary"/>: its dotted name in the model, type, output shape (without the batch), parameters.</summary>
public sealed record LayerSummary(string Name, string Type, IReadOnlyList<long>? OutputShape, long Parameters, LayerTraining Training);

/// <summary>
/// Keras' <c>model.summary()</c> for any TorchSharp module: one row per leaf layer (a module with no children) in the
/// order the forward pass ran them, with the shape each gave for an input of the given shape, then every layer the
/// forward did not reach; and the totals. Shapes come from forward hooks, which TorchSharp runs for every
/// <c>Module&lt;Tensor, Tensor&gt;</c> called with <c>call</c>; a layer run otherwise (its <c>forward</c> called
/// directly, or of another signature) has no shape.
/// </summary>
public sealed class ModelSummary
{
    private ModelSummary(IReadOnlyList<LayerSummary> layers, long total, long trainable, IReadOnlyList<long> inputShape, IReadOnlyList<long> outputShape)
        => (Layers, TotalParameters, TrainableParameters, InputShape, OutputShape) = (layers, total, trainable, inputShape, outputShape);

    public IReadOnlyList<LayerSummary> Layers { get; }
    public long TotalParameters { get; }
    public long TrainableParameters { get; }
    public long FrozenParameters => TotalParameters - TrainableParameters;
    public IReadOnlyList<long> InputShape { get; }
    public IReadOnlyList<long> OutputShape { get; }

    /// <summary>
    /// Runs <paramref name="model"/> once, in eval mode and without gradients, on a batch of one zero input of
    /// <paramref name="inputShape"/> (without the batch dimension: 3, 64, 64 for an RGB image) on the model's device,
    /// and puts its train/eval mode back.
    /// </summary>
    public static ModelSummary Of(nn.Module<Tensor, Tensor> model, IReadOnlyList<long> inputShape)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Count == 0 || inputShape.Any(d => d < 1))
            throw new ArgumentOutOfRangeException(nameof(inputShape), $"An input shape is one or more sizes of at least 1; got [{string.Join(", ", inputShape)}].");

        var leaves = model.named_modules().Prepend(("", model)).Where(m => !m.Item2.named_children().Any()).ToList();
        var ran = new List<(string Name, nn.Module Module, long[] Shape)>();
        var removers = new List<Action>();
        foreach (var (name, module) in leaves)
            if (module is nn.Module<Tensor, Tensor> hookable)
            {
                var remover = hookable.register_forward_hook((_, _, output) =>
                {
                    ran.Add((name, module, output.shape[1..]));
                    return null!; // the output is not replaced
                });
                removers.Add(remover.remove);
            }

        bool wasTraining = model.training;
        long[] outputShape;
        try
        {
            model.eval();
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            var device = model.parameters().FirstOrDefault()?.device ?? CPU;
            using var input = zeros([1, .. inputShape], device: device);
            outputShape = model.call(input).shape[1..];
        }
        finally
        {
            removers.ForEach(remove => remove());
            model.train(wasTraining);
        }

        // A layer called twice (a shared ReLU) is a row per call; its parameters count once.
        var counted = new HashSet<nn.Module>(ReferenceEqualityComparer.Instance);
        var rows = new List<LayerSummary>();
        foreach (var (name, module, shape) in ran)
            rows.Add(Row(name, module, shape, counted.Add(module)));
        foreach (var (name, module) in leaves.Where(l => !counted.Contains(l.Item2)))
            rows.Add(Row(name, module, null, counted.Add(module)));

        var parameters = model.parameters().ToList();
        return new ModelSummary(rows, parameters.Sum(p => p.numel()), parameters.Where(p => p.requires_grad).Sum(p => p.numel()), inputShape.ToArray(), outputShape);
    }

    private static LayerSummary Row(string name, nn.Module module, long[]? shape, bool countParameters)
    {
        var parameters = module.parameters().ToList();
        var training = parameters.Count == 0 ? LayerTraining.NoParameters
            : parameters.All(p => p.requires_grad) ? LayerTraining.Trainable
            : parameters.Any(p => p.requires_grad) ? LayerTraining.Partly
            : LayerTraining.Frozen;
        return new LayerSummary(name.Length == 0 ? "(model)" : name, module.GetType().Name, shape, countParameters ? parameters.Sum(p => p.numel()) : 0, training);
    }

    /// <summary>A table as Keras prints one: layer, type, output shape, parameters, training; then the totals.</summary>
    public override string ToString()
    {
        var lines = Layers.Select(l => (l.Name, l.Type, Shape: l.OutputShape is null ? "-" : $"[{string.Join(", ", l.OutputShape)}]", Params: l.Parameters.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), Training: l.Training.ToString())).ToList();
        int name = Math.Max(5, lines.Max(l => l.Name.Length)), type = Math.Max(4, lines.Max(l => l.Type.Length)), shape = Math.Max(12, lines.Max(l => l.Shape.Length)), count = Math.Max(6, lines.Max(l => l.Params.Length));
        var text = new System.Text.StringBuilder();
        text.AppendLine($"{"Layer".PadRight(name)}  {"Type".PadRight(type)}  {"Output shape".PadRight(shape)}  {"Params".PadLeft(count)}  Training");
        foreach (var l in lines) text.AppendLine($"{l.Name.PadRight(name)}  {l.Type.PadRight(type)}  {l.Shape.PadRight(shape)}  {l.Params.PadLeft(count)}  {l.Training}");
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        text.AppendLine($"Total params: {TotalParameters.ToString("N0", invariant)}; trainable: {TrainableParameters.ToString("N0", invariant)}; frozen: {FrozenParameters.ToString("N0", invariant)}");
        return text.ToString();
    }
}
