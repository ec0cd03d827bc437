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

    public void Dispose()
    {
        X.Dispose();
        Y.Dispose();
    }

    public override string ToString() => $"TensorDataset({Count} samples, x [{string.Join(", ", X.shape)}], y [{string.Join(", ", Y.shape)}])";
}

/// <summary>Named splits of a dataset, such as <c>train</c> and <c>test</c>; names ignore case.</summary>
public sealed class DatasetDict() : Dictionary<string, TensorDataset>(StringComparer.OrdinalIgnoreCase)
{
    public override string ToString() => "DatasetDict(" + string.Join(", ", this.Select(kv => $"{kv.Key}: {kv.Value.Count}")) + ")";
}
