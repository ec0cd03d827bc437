using static TorchSharp.torch;

namespace Isaacai.Data.Images;

/// <summary>
/// Image files and their class indices, decoded batch by batch (never all at once, so a folder larger than
/// memory trains) by worker threads that run ahead of the training loop. A train split may augment.
/// </summary>
public sealed class ImageDataset : IDataset
{
    private bool _disposed;

    public ImageDataset(IReadOnlyList<string> paths, IReadOnlyList<long> labels, ImagePipeline pipeline, ImageAugmentation? augmentation = null, int workers = 0)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(labels);
        if (paths.Count != labels.Count) throw new ArgumentException($"{paths.Count} image paths but {labels.Count} labels: each image needs one label.");
        ArgumentOutOfRangeException.ThrowIfNegative(workers);
        Paths = paths.ToArray();
        Labels = labels.ToArray();
        Pipeline = pipeline ?? throw new ArgumentNullException(nameof(pipeline));
        _augmentation = augmentation?.Copy().Validated();
        Workers = workers == 0 ? DefaultWorkers : workers;
    }

    /// <summary>The cores torch's own threads leave free, at least one.</summary>
    public static int DefaultWorkers => Math.Max(1, Environment.ProcessorCount - get_num_threads());

    public IReadOnlyList<string> Paths { get; }
    public IReadOnlyList<long> Labels { get; }

    private readonly ImageAugmentation? _augmentation;

    /// <summary>How the files become inputs.</summary>
    public ImagePipeline Pipeline { get; }

    /// <summary>The random changes made to each training sample, or null for none (a copy: the dataset's own cannot change).</summary>
    public ImageAugmentation? Augmentation => _augmentation?.Copy();

    /// <summary>Threads decoding files ahead of the loop.</summary>
    public int Workers { get; }

    public long Count => Paths.Count;
    public long[] InputShape => Pipeline.InputShape;
    public bool IsDisposed => _disposed;

    public void ThrowIfDisposed()
    {
        if (_disposed) throw new ObjectDisposedException("This image dataset was disposed: make it again from its files.", (Exception?)null);
    }

    public IEpochBatches OpenEpoch(Tensor? order, int batchSize, CancellationToken cancellation = default)
    {
        ThrowIfDisposed();
        long[]? indices = null;
        if (order is not null)
        {
            using (order) indices = order.data<long>().ToArray();
        }
        // One draw from torch's generator per epoch seeds every sample's augmentation (sample by sample, so the
        // same seed gives the same images whichever worker decodes them); a checkpoint's generator state repeats it.
        long epochSeed = 0;
        if (Augmentation is not null)
        {
            using var draw = randint(int.MaxValue, [2], dtype: ScalarType.Int64);
            var halves = draw.data<long>().ToArray();
            epochSeed = halves[0] << 31 ^ halves[1];
        }
        return new PrefetchedBatches(this, indices, batchSize, epochSeed, cancellation);
    }

    IDataset IDataset.Select(Tensor indices) => Select(indices);

    /// <summary>The same files and labels prepared by another pipeline (pretrained weights' statistics, say), as a new dataset.</summary>
    public ImageDataset WithPipeline(ImagePipeline pipeline) => new(Paths, Labels, pipeline, _augmentation, Workers);

    /// <summary>The same files as a valid pass reads them: no augmentation, and no draw from torch's generator.</summary>
    public ImageDataset WithoutAugmentation() => _augmentation is null ? this : new(Paths, Labels, Pipeline, null, Workers);

    /// <summary>The samples at <paramref name="indices"/> (same pipeline, augmentation and workers).</summary>
    public ImageDataset Select(Tensor indices)
    {
        var chosen = indices.data<long>().ToArray();
        return new ImageDataset(chosen.Select(i => Paths[(int)i]).ToArray(), chosen.Select(i => Labels[(int)i]).ToArray(), Pipeline, _augmentation, Workers);
    }

    /// <summary>The prepared inputs of the samples at <paramref name="indices"/>, without augmentation: what a valid pass sees.</summary>
    public Tensor LoadInputs(IReadOnlyList<long> indices) =>
        ImageBatches.Decode(indices.Select(i => Paths[(int)i]).ToArray(), Pipeline, Workers);

    /// <summary>Seeds one sample's augmentation from the epoch's seed and the sample's index (SplitMix64's finaliser).</summary>
    internal static Random SampleRandom(long epochSeed, long index)
    {
        ulong z = unchecked((ulong)epochSeed + 0x9E3779B97F4A7C15UL * (ulong)(index + 1));
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return new Random((int)(z ^ (z >> 31)));
    }

    public void Dispose() => _disposed = true;

    public override string ToString() => _disposed ? "ImageDataset(disposed)"
        : $"ImageDataset({Count} images, {Pipeline}{(Augmentation is null ? "" : "; augmented")})";
}
