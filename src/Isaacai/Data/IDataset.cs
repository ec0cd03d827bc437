using static TorchSharp.torch;

namespace Isaacai.Data;

/// <summary>
/// What a <see cref="DataLoader"/> batches: samples held as tensors in memory (<see cref="TensorDataset"/>),
/// or items such as image files decoded batch by batch (<see cref="Images.ImageDataset"/>). One path from
/// items to batches, whatever the items are.
/// </summary>
public interface IDataset : IDisposable
{
    long Count { get; }

    /// <summary>The shape of one sample's input: <c>[C, H, W]</c> for images, <c>[features]</c> for a table.</summary>
    long[] InputShape { get; }

    bool IsDisposed { get; }

    /// <summary>One clear error instead of a native one from the first use of freed data.</summary>
    void ThrowIfDisposed();

    /// <summary>
    /// The batches of one epoch: samples in the order of <paramref name="order"/> (null: in order), cut into
    /// batches of <paramref name="batchSize"/>. Takes ownership of <paramref name="order"/>. A batch that is not ready
    /// yet is waited for until <paramref name="cancellation"/> (the fit's) is cancelled.
    /// </summary>
    IEpochBatches OpenEpoch(Tensor? order, int batchSize, CancellationToken cancellation = default);

    /// <summary>The samples at <paramref name="indices"/>, as a new dataset of the same kind.</summary>
    IDataset Select(Tensor indices);
}

/// <summary>One epoch's batches. The trainer asks for them in order; a batch's tensors belong to the caller's dispose scope.</summary>
public interface IEpochBatches : IDisposable
{
    int Count { get; }
    Batch Get(int index);
}
