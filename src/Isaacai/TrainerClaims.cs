namespace Isaacai;

/// <summary>
/// One job at a time: a fit, an LR range test or a checkpoint restore holds the trainer, so that a second
/// one, from another runspace or thread, is refused before it changes anything.
/// </summary>
public partial class Trainer
{
    private int _busy; // 1 while a job holds the trainer; claimed atomically, as hosts on other threads start jobs too
    private int _holder; // the managed thread id of that job

    /// <summary>
    /// Takes the trainer for one job that changes it (a fit, an LR range test, a checkpoint restore), or
    /// refuses with <see cref="TrainerBusyException"/> while another job holds it, on any thread; disposing
    /// the lease gives it back. The holder's own thread may still change it (a callback adding a callback);
    /// other threads may not add or remove callbacks meanwhile.
    /// </summary>
    public IDisposable Claim()
    {
        if (Interlocked.Exchange(ref _busy, 1) == 1) throw new TrainerBusyException();
        _holder = Environment.CurrentManagedThreadId;
        return new Lease(this);
    }

    private sealed class Lease(Trainer trainer) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 1) return;
            trainer._holder = 0;
            Volatile.Write(ref trainer._busy, 0);
        }
    }

    /// <summary>Whether a job (a fit, say) holds the trainer; another <see cref="Fit"/> would be refused.</summary>
    public bool IsFitting => Volatile.Read(ref _busy) == 1;

    /// <summary>
    /// <see cref="Claim"/> for a change that may also come from inside the job holding the trainer (a hook
    /// saving a checkpoint): on the holder's thread it joins that job (the lease does nothing), elsewhere it
    /// claims, or refuses while a job holds the trainer.
    /// </summary>
    public IDisposable ClaimOrJoin() =>
        IsFitting && _holder == Environment.CurrentManagedThreadId ? NoLease.Instance : Claim();

    private sealed class NoLease : IDisposable
    {
        public static readonly NoLease Instance = new();
        public void Dispose() { }
    }

    private void ThrowIfHeldElsewhere()
    {
        if (IsFitting && _holder != Environment.CurrentManagedThreadId) throw new TrainerBusyException();
    }
}
