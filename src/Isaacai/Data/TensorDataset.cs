using static TorchSharp.torch;

namespace Isaacai.Data;

/// <summary>Inputs and targets held as two tensors whose first dimension is the sample.</summary>
public sealed class TensorDataset : IDisposable
{
    public TensorDataset(Tensor x, Tensor y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.dim() == 0 || y.dim() == 0 || x.shape[0] != y.shape[0])
            throw new ArgumentException($"Inputs and targets must have the same number of samples in their first dimension; got shapes [{string.Join(", ", x.shape)}] and [{string.Join(", ", y.shape)}].");
        X = x;
        Y = y;
    }

    public Tensor X { get; }
    public Tensor Y { get; }
    public long Count => X.shape[0];

    /// <summary>The samples at <paramref name="indices"/>, copied into a new dataset.</summary>
    public TensorDataset Select(Tensor indices) => new(X.index_select(0, indices), Y.index_select(0, indices));

    /// <summary>Whether its tensors are gone (disposed here, or by whoever else held them).</summary>
    public bool IsDisposed => X.IsInvalid || Y.IsInvalid;

    /// <summary>One clear error instead of libtorch's "Tensor invalid -- empty handle" from the first use of a freed tensor.</summary>
    public void ThrowIfDisposed()
    {
        if (IsDisposed)
            throw new ObjectDisposedException("This dataset's tensors were disposed (Get-IsaacDataset -Sample frees the whole set once sampled, say): load or make the dataset again.", (Exception?)null);
    }

    public void Dispose()
    {
        X.Dispose();
        Y.Dispose();
    }

    public override string ToString() => IsDisposed ? "TensorDataset(disposed)"
        : $"TensorDataset({Count} samples, x [{string.Join(", ", X.shape)}], y [{string.Join(", ", Y.shape)}])";
}

/// <summary>
/// Named splits of a dataset, such as <c>train</c> and <c>test</c>; names ignore case. <see cref="Target"/>
/// says what the targets are, and <see cref="Processor"/> how a table's rows became inputs, where known.
/// </summary>
public sealed class DatasetDict() : Dictionary<string, TensorDataset>(StringComparer.OrdinalIgnoreCase)
{
    private TargetSpec? _target;

    /// <summary>What the targets are (classes or a number), where known; the processor's target for tabular data.</summary>
    public TargetSpec? Target { get => Processor?.Target ?? _target; set => _target = value; }

    /// <summary>The fitted preprocessing of tabular data; null for data that came as tensors.</summary>
    public Tabular.TabularProcessor? Processor { get; private set; }

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
