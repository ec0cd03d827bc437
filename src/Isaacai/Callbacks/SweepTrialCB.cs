using Isaacai.Sweeps;

namespace Isaacai.Callbacks;

/// <summary>
/// A sweep's eye on one trial: records the monitored value of each epoch and ends the fit (a CancelFit, once
/// the epoch's other callbacks have run) when the value is NaN or infinite, or when the median pruner finds
/// the trial worse than the completed ones at the same epoch.
/// </summary>
public sealed class SweepTrialCB : Callback
{
    private readonly List<double> _values = [];
    private readonly IReadOnlyList<IReadOnlyList<double>> _completed;

    /// <summary>Watches <paramref name="monitor"/>; with a <paramref name="pruner"/>, against <paramref name="completed"/>: the monitored values, per epoch, of the trials that had completed when this one started.</summary>
    public SweepTrialCB(string monitor, MonitorMode mode, MedianPruner? pruner = null, IEnumerable<IReadOnlyList<double>>? completed = null)
    {
        Monitor = new MonitoredValue(monitor, mode);
        Pruner = pruner;
        _completed = completed?.ToArray() ?? [];
        Order = 10; // after MetricsCB has made the epoch's record
    }

    public MonitoredValue Monitor { get; }
    public MedianPruner? Pruner { get; }

    /// <summary>The monitored value of each epoch this fit trained.</summary>
    public IReadOnlyList<double> Values => _values;

    /// <summary>The epoch the pruner stopped the fit at, or null.</summary>
    public int? PrunedEpoch { get; private set; }

    /// <summary>Why the trial failed without an exception (a value that is not finite), or null.</summary>
    public string? Failure { get; private set; }

    private int? _stopAt;

    public override void BeforeFit(Trainer trainer)
    {
        _values.Clear();
        (PrunedEpoch, Failure, _stopAt) = (null, null, null);
    }

    public override void AfterEpoch(Trainer trainer)
    {
        if (Monitor.Read(trainer) is not { } value) return;
        _values.Add(value);
        if (!double.IsFinite(value))
        {
            Failure = $"{Monitor.Key} was {value} at epoch {trainer.Epoch}.";
            _stopAt = trainer.Epoch;
        }
        // A trial at its last epoch has trained all it would: it completes rather than being pruned there.
        else if (Pruner is not null && trainer.Epoch < trainer.NEpochs - 1 && Pruner.ShouldPrune(_values, _completed, Monitor.Mode))
        {
            PrunedEpoch = trainer.Epoch;
            _stopAt = trainer.Epoch;
        }
    }

    public override void CleanupEpoch(Trainer trainer)
    {
        if (_stopAt == trainer.Epoch && trainer.LastPhaseOfEpoch) throw new CancelFitException();
    }
}
