using System.Collections.Concurrent;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace Isaacai.PowerShell;

/// <summary>
/// Torch has one random generator per process, which every runspace shares: fits running in two runspaces
/// at once draw from it in turns that depend on timing, so Set-IsaacSeed cannot make either of them repeat.
/// This keeps which runspaces are fitting, and whether a seed was set, to warn when seeded fits overlap.
/// </summary>
internal static class SharedGenerator
{
    private static readonly ConcurrentDictionary<Guid, int> Fitting = new();
    private static volatile bool _seeded;

    public const string Warning =
        "Another runspace is fitting at the same time as this one, after Set-IsaacSeed: torch has one random generator per process, " +
        "which the runspaces draw from in turns that depend on timing, so neither fit repeats what its seed gives alone. " +
        "For reproducible fits in parallel, run each in its own process (Start-Job, or pwsh -File); in one process, fit one at a time.";

    public static void Seeded() => _seeded = true;

    /// <summary>
    /// Counts this runspace as fitting <paramref name="trainer"/> until the result is disposed; warns when another
    /// runspace is fitting too, after a seed. A trainer already fitting is about to be refused: no fit, no warning.
    /// </summary>
    public static IDisposable EnterFit(Cmdlet cmdlet, Trainer trainer)
    {
        if (trainer.IsFitting) return new Leave(null);
        var runspace = Runspace.DefaultRunspace?.InstanceId ?? Guid.Empty;
        Fitting.AddOrUpdate(runspace, 1, (_, count) => count + 1);
        if (_seeded && Fitting.Keys.Any(other => other != runspace)) cmdlet.WriteWarning(Warning);
        return new Leave(runspace);
    }

    private sealed class Leave(Guid? runspace) : IDisposable
    {
        private int _left;

        public void Dispose()
        {
            if (runspace is not { } id || Interlocked.Exchange(ref _left, 1) == 1) return;
            Fitting.AddOrUpdate(id, 0, (_, count) => count - 1);
            Fitting.TryRemove(new KeyValuePair<Guid, int>(id, 0));
        }
    }
}
