using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using static TorchSharp.torch;

namespace Isaacai.Data.Images;

/// <summary>Decoding many files at once into one batch of floats, on worker threads.</summary>
internal static class ImageBatches
{
    /// <summary>The floats <paramref name="count"/> prepared images take; one clear error beyond what one buffer holds.</summary>
    public static int BufferLength(int count, ImagePipeline pipeline)
    {
        long floats = (long)count * pipeline.SampleLength;
        return floats <= Array.MaxLength ? (int)Math.Max(1, floats)
            : throw new ArgumentOutOfRangeException(null, $"{count} images of {pipeline.Height}×{pipeline.Width}×{pipeline.Channels} take {floats * sizeof(float):N0} bytes at once, more than one buffer holds; use a smaller batch or image size.");
    }

    /// <summary>
    /// Decodes <paramref name="paths"/> into <paramref name="buffer"/>, one sample after another, on up to
    /// <paramref name="workers"/> threads; with an augmentation, sample i draws from <paramref name="randomFor"/>(i).
    /// A failure is the first failing file's, by position, whichever thread met it first.
    /// </summary>
    public static void DecodeInto(IReadOnlyList<string> paths, ImagePipeline pipeline, float[] buffer, int workers,
                                  ImageAugmentation? augmentation = null, Func<int, Random>? randomFor = null, CancellationToken cancellation = default)
    {
        var errors = DecodeAll(paths, pipeline, buffer, workers, augmentation, randomFor, cancellation);
        if (Array.FindIndex(errors, e => e is not null) is var first and >= 0) ExceptionDispatchInfo.Throw(errors[first]!);
    }

    /// <summary>Decodes every file it can into <paramref name="buffer"/>; each file's error, or null where it decoded.</summary>
    public static ImageFileException?[] DecodeAll(IReadOnlyList<string> paths, ImagePipeline pipeline, float[] buffer, int workers,
                                                   ImageAugmentation? augmentation, Func<int, Random>? randomFor, CancellationToken cancellation)
    {
        int length = pipeline.SampleLength;
        if (buffer.Length < BufferLength(paths.Count, pipeline)) throw new ArgumentException("The buffer is smaller than the batch.", nameof(buffer));
        var errors = new ImageFileException?[paths.Count];
        Parallel.For(0, paths.Count, new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = cancellation }, i =>
        {
            try { ImageDecoder.Decode(paths[i], pipeline, buffer.AsSpan(i * length, length), augmentation, augmentation is null ? null : randomFor!(i)); }
            catch (ImageFileException e) { errors[i] = e; }
        });
        return errors;
    }

    /// <summary>The prepared images of <paramref name="paths"/> as a tensor [N, C, H, W] (no augmentation).</summary>
    public static Tensor Decode(IReadOnlyList<string> paths, ImagePipeline pipeline, int workers)
    {
        var buffer = ArrayPool<float>.Shared.Rent(BufferLength(paths.Count, pipeline));
        try
        {
            DecodeInto(paths, pipeline, buffer, workers);
            return ToTensor(buffer, paths.Count, pipeline);
        }
        finally { ArrayPool<float>.Shared.Return(buffer); }
    }

    /// <summary>
    /// The files that decode, as a tensor [N, C, H, W] in their order (null when none did), and each file's
    /// error (null where it decoded): one bad file does not spoil the others.
    /// </summary>
    public static (Tensor? Inputs, ImageFileException?[] Errors) DecodeEach(IReadOnlyList<string> paths, ImagePipeline pipeline, int workers)
    {
        int length = pipeline.SampleLength;
        var buffer = ArrayPool<float>.Shared.Rent(BufferLength(paths.Count, pipeline));
        try
        {
            var errors = DecodeAll(paths, pipeline, buffer, workers, null, null, default);
            int good = 0;
            for (int i = 0; i < paths.Count; i++)
                if (errors[i] is null)
                {
                    if (good != i) buffer.AsSpan(i * length, length).CopyTo(buffer.AsSpan(good * length, length));
                    good++;
                }
            return (good == 0 ? null : ToTensor(buffer, good, pipeline), errors);
        }
        finally { ArrayPool<float>.Shared.Return(buffer); }
    }

    /// <summary>A tensor in torch's own memory holding the first <paramref name="count"/> samples of <paramref name="buffer"/>.</summary>
    public static Tensor ToTensor(float[] buffer, int count, ImagePipeline pipeline)
    {
        var x = empty([count, pipeline.Channels, pipeline.Height, pipeline.Width]);
        using var access = x.data<float>();
        access.CopyFrom(buffer.AsSpan(0, count * pipeline.SampleLength), 0, 0);
        return x;
    }
}

/// <summary>
/// One epoch of an <see cref="ImageDataset"/>: a producer decodes batch after batch, in the epoch's order,
/// up to <see cref="Ahead"/> batches ahead of the loop, which takes them in order. A file that fails is
/// that batch's error, thrown on the loop's thread; disposing stops the producer and waits for it.
/// </summary>
internal sealed class PrefetchedBatches : IEpochBatches
{
    private const int Ahead = 2;
    private readonly ImageDataset _data;
    private readonly long[]? _order;
    private readonly int _batchSize;
    private readonly long _epochSeed;
    private readonly ImagePipeline _pipeline;
    private readonly BlockingCollection<DecodedBatch> _ready = new(Ahead);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _producer;
    private readonly CancellationToken _cancellation;
    private readonly ImageAugmentation? _augmentation;
    private int _next;
    private bool _disposed;

    private sealed record DecodedBatch(float[]? Buffer, long[] Labels, ExceptionDispatchInfo? Error);

    public PrefetchedBatches(ImageDataset data, long[]? order, int batchSize, long epochSeed, CancellationToken cancellation)
    {
        (_data, _order, _batchSize, _epochSeed, _pipeline, _cancellation, _augmentation) = (data, order, batchSize, epochSeed, data.Pipeline, cancellation, data.Augmentation);
        Count = (int)((data.Count + batchSize - 1) / batchSize);
        // The default scheduler: a caller's own (single-threaded) scheduler would queue the producer behind the loop.
        _producer = Task.Factory.StartNew(Produce, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public int Count { get; }

    private void Produce()
    {
        try
        {
            for (int b = 0; b < Count && !_stop.IsCancellationRequested; b++)
            {
                var batch = DecodeBatch(b);
                _ready.Add(batch, _stop.Token);
                if (batch.Error is not null) return;
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested) { }
        catch (Exception e)
        {
            // Whatever else ends the producer is the loop's error at the next batch, not a silent end of the epoch.
            _ready.Add(new DecodedBatch(null, [], ExceptionDispatchInfo.Capture(e)));
        }
        finally { _ready.CompleteAdding(); }
    }

    private DecodedBatch DecodeBatch(int index)
    {
        int start = index * _batchSize, count = (int)Math.Min(_batchSize, _data.Count - start);
        var samples = new long[count];
        for (int i = 0; i < count; i++) samples[i] = _order?[start + i] ?? start + i;
        var labels = samples.Select(s => _data.Labels[(int)s]).ToArray();
        float[]? buffer = null;
        try
        {
            buffer = ArrayPool<float>.Shared.Rent(ImageBatches.BufferLength(count, _pipeline));
            ImageBatches.DecodeInto(samples.Select(s => _data.Paths[(int)s]).ToArray(), _pipeline, buffer, _data.Workers,
                _augmentation, i => ImageDataset.SampleRandom(_epochSeed, samples[i]), _stop.Token);
            return new DecodedBatch(buffer, labels, null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            if (buffer is not null) ArrayPool<float>.Shared.Return(buffer);
            return new DecodedBatch(null, labels, ExceptionDispatchInfo.Capture(e));
        }
    }

    public Batch Get(int index)
    {
        if (index != _next)
            throw new InvalidOperationException($"Image batches are decoded ahead in order: batch {_next} comes next, not {index}.");
        // Cancelling the fit (Ctrl+C) ends the wait at once, not after the batch has been decoded.
        if (!_ready.TryTake(out var batch, Timeout.Infinite, _cancellation)) throw new InvalidOperationException("This epoch's batches have all been read.");
        _next++;
        batch.Error?.Throw();
        try { return new Batch(ImageBatches.ToTensor(batch.Buffer!, batch.Labels.Length, _pipeline), tensor(batch.Labels)); }
        finally { ArrayPool<float>.Shared.Return(batch.Buffer!); }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _stop.Cancel();
        try { _producer.Wait(); } catch (AggregateException) { } // its errors were each batch's to report
        while (_ready.TryTake(out var left))
            if (left.Buffer is not null) ArrayPool<float>.Shared.Return(left.Buffer);
        _ready.Dispose();
        _stop.Dispose();
    }
}
