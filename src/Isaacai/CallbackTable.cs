namespace Isaacai;

/// <summary>
/// The callbacks that implement each hook, in running order. Built once and reused for every batch, so
/// running a hook is an array walk: no reflection, no sorting, no allocation.
/// </summary>
internal sealed class CallbackTable
{
    private readonly Callback[][] _byHook;

    public CallbackTable(IReadOnlyList<Callback> callbacks)
    {
        var sorted = RunningOrder(callbacks);
        _byHook = HookNames.All.Select(hook => sorted.Where(cb => cb.Implements(hook)).ToArray()).ToArray();
    }

    public Callback[] For(Hook hook) => _byHook[(int)hook];

    /// <summary>
    /// By <see cref="Callback.Order"/>, ties in the order added, except where <see cref="Callback.RunsBefore"/>
    /// or <see cref="Callback.RunsAfter"/> name another callback: those constraints win over numbers. (A
    /// topological sort that always takes the lowest (order, position) among the callbacks free to run.)
    /// Names that match no callback are ignored; a cycle is an error naming it.
    /// </summary>
    private static Callback[] RunningOrder(IReadOnlyList<Callback> callbacks)
    {
        bool constrained = callbacks.Any(c => c.RunsBefore.Count > 0 || c.RunsAfter.Count > 0);
        if (!constrained) return callbacks.OrderBy(cb => cb.Order).ToArray(); // OrderBy is stable
        int n = callbacks.Count;
        var successors = Enumerable.Range(0, n).Select(_ => new List<int>()).ToArray();
        var waitingFor = new int[n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                if (i == j) continue;
                bool iBeforeJ = callbacks[i].RunsBefore.Contains(callbacks[j].Name) || callbacks[j].RunsAfter.Contains(callbacks[i].Name);
                if (iBeforeJ) { successors[i].Add(j); waitingFor[j]++; }
            }
        var free = new PriorityQueue<int, (int Order, int Position)>();
        for (int i = 0; i < n; i++) if (waitingFor[i] == 0) free.Enqueue(i, (callbacks[i].Order, i));
        var sorted = new List<Callback>(n);
        while (free.TryDequeue(out int i, out _))
        {
            sorted.Add(callbacks[i]);
            foreach (int j in successors[i])
                if (--waitingFor[j] == 0) free.Enqueue(j, (callbacks[j].Order, j));
        }
        if (sorted.Count < n)
        {
            var stuck = Enumerable.Range(0, n).Where(i => waitingFor[i] > 0).Select(i => callbacks[i].Name);
            throw new InvalidOperationException(
                $"The callbacks' before/after constraints form a cycle among: {string.Join(", ", stuck)}. Remove one of the constraints (Remove-IsaacCallback, or RunsBefore/RunsAfter).");
        }
        return sorted.ToArray();
    }
}
