using System.Collections.Concurrent;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Isaacai.Callbacks;

/// <summary>
/// A SummaryWriter fed from the training loop and writing on a thread of its own: TorchSharp's writer opens,
/// appends to and closes its file for every value (some 0.2 ms here), which a batch should not wait for.
/// The thread runs only the writer's own code on plain values and tensors handed over to it (never a
/// script, never the pipeline); a tensor handed over is freed once written, or when the writer stops.
/// A failure on that thread comes back to the training loop at the next <see cref="Add"/>, <see cref="Flush"/>
/// or <see cref="Dispose"/>, and nothing more is written after it.
/// </summary>
internal sealed class BackgroundSummaryWriter : IDisposable
{
    private readonly SummaryWriter _writer;
    private readonly BlockingCollection<(Action<SummaryWriter> Write, IDisposable? Owned)> _work = new();
    private readonly Thread _thread;
    private readonly Action<SummaryWriter>? _afterFlush;
    private volatile Exception? _failure;
    private bool _disposed;

    /// <param name="writer">The writer, used on the new thread only from now on.</param>
    /// <param name="afterFlush">Run on the writer's thread once everything added before a <see cref="Flush"/> is written.</param>
    public BackgroundSummaryWriter(SummaryWriter writer, Action<SummaryWriter>? afterFlush = null)
    {
        (_writer, _afterFlush) = (writer, afterFlush);
        _thread = new Thread(WriteAll) { IsBackground = true, Name = "TensorBoard writer" };
        _thread.Start();
    }

    /// <summary>Queues a write; <paramref name="owned"/> (a tensor it reads, say) is disposed after it, written or not.</summary>
    public void Add(Action<SummaryWriter> write, IDisposable? owned = null)
    {
        try
        {
            ThrowIfFailed();
            _work.Add((write, owned));
        }
        catch
        {
            owned?.Dispose();
            throw;
        }
    }

    /// <summary>Returns once everything added so far is written and <c>afterFlush</c> has run.</summary>
    public void Flush()
    {
        using var done = new ManualResetEventSlim();
        Add(writer => _afterFlush?.Invoke(writer), new SetOnDispose(done)); // set even when an earlier failure skips the write
        done.Wait();
        ThrowIfFailed();
    }

    private sealed class SetOnDispose(ManualResetEventSlim done) : IDisposable
    {
        public void Dispose() => done.Set();
    }

    /// <summary>Writes what is queued, then stops the thread.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _work.CompleteAdding();
        _thread.Join();
        _work.Dispose();
        ThrowIfFailed();
    }

    private void WriteAll()
    {
        foreach (var (write, owned) in _work.GetConsumingEnumerable())
        {
            try
            {
                if (_failure is not null) continue;
                using var scope = NewDisposeScope(); // what the writer makes from a tensor (histogram bins) it does not free
                write(_writer);
            }
            catch (Exception e) { _failure = e; }
            finally { owned?.Dispose(); }
        }
    }

    private void ThrowIfFailed()
    {
        if (_failure is { } failure)
            throw new IOException($"TensorBoardCB could not write its event file: {failure.Message}", failure);
    }
}
