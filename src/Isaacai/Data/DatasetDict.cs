using static TorchSharp.torch;

namespace Isaacai.Data;

/// <summary>
/// Named splits of a dataset, such as <c>train</c> and <c>test</c>; names ignore case. <see cref="Target"/>
/// says what the targets are, and <see cref="Processor"/> how a table's rows became inputs, where known.
/// </summary>
public sealed class DatasetDict() : Dictionary<string, IDataset>(StringComparer.OrdinalIgnoreCase)
{
    private TargetSpec? _target;

    /// <summary>What the targets are (classes or a number), where known; the processor's target for tabular data.</summary>
    public TargetSpec? Target { get => Processor?.Target ?? _target; set => _target = value; }

    /// <summary>The fitted preprocessing of tabular data; null for data that came as tensors.</summary>
    public Tabular.TabularProcessor? Processor { get; private set; }

    /// <summary>
    /// How image files become inputs (size, channels, normalization), for datasets of images; null otherwise.
    /// Setting it puts new splits in this dict: loaders and trainers made earlier keep the splits they had, so a
    /// model trained on the old statistics is never fed the new ones.
    /// </summary>
    public Images.ImagePipeline? Images
    {
        get => Values.OfType<Images.ImageDataset>().FirstOrDefault()?.Pipeline;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            var splits = this.Where(split => split.Value is Images.ImageDataset).ToList();
            if (splits.Count == 0) throw new InvalidOperationException("This dataset holds no image files, so it has no image pipeline to change.");
            foreach (var (name, split) in splits) this[name] = ((Images.ImageDataset)split).WithPipeline(value);
        }
    }

    public DatasetDict WithProcessor(Tabular.TabularProcessor? processor)
    {
        Processor = processor;
        return this;
    }

    /// <summary>A <c>train</c> and a <c>valid</c> split from tensors: inputs first, targets second (class indices or numbers).</summary>
    public static DatasetDict FromTensors((Tensor X, Tensor Y) train, (Tensor X, Tensor Y) valid, TargetSpec? target = null) =>
        new() { ["train"] = new TensorDataset(train.X, train.Y), ["valid"] = new TensorDataset(valid.X, valid.Y), Target = target };

    public override string ToString() => "DatasetDict(" + string.Join(", ", this.Select(kv => $"{kv.Key}: {(kv.Value.IsDisposed ? "disposed" : kv.Value.Count)}"))
        + (Target is null ? "" : $"; target {Target}") + ")";
}
