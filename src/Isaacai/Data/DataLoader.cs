using static TorchSharp.torch;

namespace Isaacai.Data;

/// <summary>
/// Batches of a dataset, in order or shuffled. A shuffled loader draws a new permutation from torch's global
/// generator each epoch, so <see cref="Isaac.SetSeed"/> fixes it; the dataset makes the batches (slices of
/// tensors in memory, or files decoded ahead of the loop).
/// </summary>
public sealed class DataLoader
{
    public DataLoader(IDataset dataset, int batchSize, bool shuffle)
    {
        Dataset = dataset ?? throw new ArgumentNullException(nameof(dataset));
        dataset.ThrowIfDisposed();
        BatchSize = batchSize > 0 ? batchSize : throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be at least 1.");
        Shuffle = shuffle;
    }

    public IDataset Dataset { get; }
    public int BatchSize { get; }
    public bool Shuffle { get; }

    /// <summary>Batches per epoch; the last one may be smaller.</summary>
    public int BatchCount
    {
        get
        {
            Dataset.ThrowIfDisposed();
            return (int)((Dataset.Count + BatchSize - 1) / BatchSize);
        }
    }

    /// <summary>The batches of one epoch, in this epoch's order; waiting for a batch ends when <paramref name="cancellation"/> is cancelled.</summary>
    public IEpochBatches BeginEpoch(CancellationToken cancellation = default)
    {
        Dataset.ThrowIfDisposed();
        return Dataset.OpenEpoch(Shuffle ? randperm(Dataset.Count) : null, BatchSize, cancellation);
    }
}

/// <summary>The train loader (shuffled) and the valid loader (in order).</summary>
public sealed class DataLoaders(DataLoader train, DataLoader valid)
{
    private static readonly string[] ValidSplitNames = ["valid", "validation", "test"];

    public DataLoader Train { get; } = train ?? throw new ArgumentNullException(nameof(train));
    public DataLoader Valid { get; } = valid ?? throw new ArgumentNullException(nameof(valid));

    /// <summary>From a dict with a <c>train</c> split and a <c>valid</c>, <c>validation</c> or <c>test</c> split.</summary>
    public static DataLoaders FromDatasetDict(DatasetDict dd, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(dd);
        if (!dd.TryGetValue("train", out var train))
            throw new ArgumentException($"The dataset dict has no 'train' split; its splits are: {string.Join(", ", dd.Keys)}.", nameof(dd));
        var validName = ValidSplitNames.FirstOrDefault(dd.ContainsKey)
            ?? throw new ArgumentException($"The dataset dict has no validation split (one of {string.Join(", ", ValidSplitNames)}); its splits are: {string.Join(", ", dd.Keys)}.", nameof(dd));
        return new DataLoaders(new DataLoader(train, batchSize, shuffle: true), new DataLoader(dd[validName], batchSize, shuffle: false))
            { Target = dd.Target, Processor = dd.Processor };
    }

    /// <summary>What the targets are, where known: it picks a trainer's default loss and metrics, and names predictions.</summary>
    public TargetSpec? Target { get; init; }

    /// <summary>The tabular preprocessing the data went through, if any; a saved model keeps it.</summary>
    public Tabular.TabularProcessor? Processor { get; init; }

    /// <summary>How image files become inputs, for loaders over images (the train split's pipeline).</summary>
    public Images.ImagePipeline? Images => (Train.Dataset as Images.ImageDataset)?.Pipeline;

    public bool IsDisposed => Train.Dataset.IsDisposed || Valid.Dataset.IsDisposed;

    /// <summary>Refuses loaders over a disposed dataset with the one message that says so.</summary>
    public void ThrowIfDisposed()
    {
        Train.Dataset.ThrowIfDisposed();
        Valid.Dataset.ThrowIfDisposed();
    }

    public override string ToString() => IsDisposed ? "DataLoaders(disposed dataset)"
        : $"DataLoaders(train: {Train.BatchCount} batches, valid: {Valid.BatchCount} batches, batch size {Train.BatchSize}"
          + (Target is null ? ")" : $"; target {Target})");
}
