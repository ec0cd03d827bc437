using Isaacai.Checkpoints;
using Microsoft.Extensions.Logging;

namespace Isaacai.Callbacks;

/// <summary>
/// Ends the fit (as a CancelFit, at the end of the epoch) once the monitored record key has not improved by more than
/// <see cref="MonitoredValue.MinDelta"/> for <see cref="Patience"/> epochs in a row. With
/// <see cref="RestoreBestWeights"/>, the model ends the fit with the weights of its best epoch. Its best
/// value, wait and best weights are saved in checkpoints, so a resumed fit stops where a straight one would.
/// </summary>
public class EarlyStoppingCB : Callback, ICheckpointable, IDisposable
{
    private readonly WeightSnapshot _bestWeights = new();

    public EarlyStoppingCB(string monitor = "valid_loss", double minDelta = 0, int patience = 1, MonitorMode mode = MonitorMode.Auto, bool restoreBestWeights = false)
    {
        Monitor = new MonitoredValue(monitor, mode, minDelta);
        Patience = patience >= 1 ? patience : throw new ArgumentOutOfRangeException(nameof(patience), patience, "Patience must be at least 1 epoch.");
        RestoreBestWeights = restoreBestWeights;
        Order = 10; // after MetricsCB has made the epoch's record
    }

    public MonitoredValue Monitor { get; }
    public int Patience { get; }
    public bool RestoreBestWeights { get; }

    public double Best { get; private set; } = double.NaN;
    public int BestEpoch { get; private set; } = -1;

    /// <summary>Epochs since the last improvement.</summary>
    public int Wait { get; private set; }

    /// <summary>The epoch at which it ended the last fit, or null if it did not.</summary>
    public int? StoppedEpoch { get; private set; }

    public override void BeforeFit(Trainer trainer)
    {
        Best = double.NaN;
        BestEpoch = -1;
        Wait = 0;
        StoppedEpoch = null;
        _bestWeights.Clear();
    }

    public override void AfterEpoch(Trainer trainer)
    {
        if (Monitor.Read(trainer) is not { } value) return;
        if (Monitor.Improves(value, Best))
        {
            (Best, BestEpoch, Wait) = (value, trainer.Epoch, 0);
            if (RestoreBestWeights) _bestWeights.Take(trainer.Model);
            return;
        }
        if (++Wait < Patience) return;
        StoppedEpoch = trainer.Epoch;
        trainer.Logger.LogWarning("Early stopping at epoch {Epoch}: {Key} has not improved for {Patience} epoch(s); the best was {Best} at epoch {BestEpoch}.",
            trainer.Epoch, Monitor.Key, Patience, Best, BestEpoch);
    }

    /// <summary>
    /// The fit ends here, once every after_epoch callback has had the epoch (the CSV row, the checkpoint),
    /// rather than at after_epoch, where a cancel would skip the callbacks after this one.
    /// </summary>
    public override void CleanupEpoch(Trainer trainer)
    {
        if (StoppedEpoch == trainer.Epoch && trainer.LastPhaseOfEpoch) throw new CancelFitException();
    }

    /// <summary>Best weights go back whichever way the fit ended, so the model is the best one seen.</summary>
    public override void CleanupFit(Trainer trainer)
    {
        if (RestoreBestWeights && !_bestWeights.IsEmpty) _bestWeights.RestoreInto(trainer.Model);
    }

    public void SaveState(CallbackState state)
    {
        state.Values["best"] = Best;
        state.Values["best_epoch"] = BestEpoch;
        state.Values["wait"] = Wait;
        foreach (var (key, tensor) in _bestWeights.Tensors) state.Tensors[key] = tensor.clone();
    }

    public void RestoreState(CallbackState state)
    {
        Best = state.Value("best");
        BestEpoch = (int)state.Value("best_epoch");
        Wait = (int)state.Value("wait");
        _bestWeights.Load(state.Tensors);
    }

    public void Dispose()
    {
        _bestWeights.Dispose();
        GC.SuppressFinalize(this);
    }
}
