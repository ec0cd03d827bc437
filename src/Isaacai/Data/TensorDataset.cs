using static TorchSharp.torch;

namespace Isaacai.Data;

/// <summary>Inputs and targets held as two tensors whose first dimension is the sample.</summary>
public sealed class TensorDataset : IDataset
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
    public long[] InputShape => X.shape[1..];

    /// <summary>The samples at <paramref name="indices"/>, copied into a new dataset.</summary>
    public TensorDataset Select(Tensor indices) => new(X.index_select(0, indices), Y.index_select(0, indices));

    IDataset IDataset.Select(Tensor indices) => Select(indices);

    /// <summary>Batches sliced from the tensors: no per-item collation.</summary>
    public IEpochBatches OpenEpoch(Tensor? order, int batchSize, CancellationToken cancellation = default) => new SlicedBatches(this, order, batchSize);

    private sealed class SlicedBatches(TensorDataset data, Tensor? order, int batchSize) : IEpochBatches
    {
        public int Count => (int)((data.Count + batchSize - 1) / batchSize);

        public Batch Get(int index)
        {
            long start = (long)index * batchSize;
            long length = Math.Min(batchSize, data.Count - start);
            if (order is null) return new Batch(data.X.narrow(0, start, length), data.Y.narrow(0, start, length));
            using var indices = order.narrow(0, start, length);
            return new Batch(data.X.index_select(0, indices), data.Y.index_select(0, indices));
        }

        public void Dispose() => order?.Dispose();
    }

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
