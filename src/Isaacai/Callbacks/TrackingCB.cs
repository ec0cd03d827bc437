using System.Diagnostics;
using Isaacai.Schedules;
using TorchSharp;

namespace Isaacai.Callbacks;

/// <summary>
/// Keeps every batch's loss, the learning rate of every train batch (as its step used it, after any
/// schedule set it), and one record per epoch with the mean train and valid batch loss, for plotting or
/// inspection after a fit.
/// </summary>
public class TrackingCB : Callback
{
    private readonly List<double> _trainLosses = [], _validLosses = [], _lrs = [];
    private readonly List<EpochRecord> _epochs = [];
    private readonly List<int> _epochEnds = [];
    private readonly Stopwatch _clock = new();
    private int _epochStart;
    private double? _epochTrainLoss;

    public IReadOnlyList<double> TrainLosses => _trainLosses;
    public IReadOnlyList<double> ValidLosses => _validLosses;

    /// <summary>The learning rate of each train batch, one per entry of <see cref="TrainLosses"/>.</summary>
    public IReadOnlyList<double> Lrs => _lrs;

    /// <summary>One record per finished epoch; no metrics, the losses being plain means of batch losses.</summary>
    public IReadOnlyList<EpochRecord> Epochs => _epochs;

    /// <summary>
    /// How many train batches had run when each epoch ended, one per entry of <see cref="Epochs"/>: where
    /// an epoch's valid loss sits on a per-batch axis, even when a cancelled epoch ran fewer batches.
    /// </summary>
    public IReadOnlyList<int> EpochEnds => _epochEnds;

    public override void BeforeFit(Trainer trainer)
    {
        _trainLosses.Clear();
        _validLosses.Clear();
        _lrs.Clear();
        _epochs.Clear();
        _epochEnds.Clear();
    }

    public override void BeforeEpoch(Trainer trainer)
    {
        if (trainer.FirstPhaseOfEpoch) { _clock.Restart(); _epochTrainLoss = null; }
        _epochStart = Losses(trainer).Count;
    }

    public override void AfterBatch(Trainer trainer)
    {
        Losses(trainer).Add(trainer.Loss!.ToDouble());
        if (trainer.Training) _lrs.Add(trainer.Opt is { } opt ? OptimizerSettings.GetLr(opt) : double.NaN);
    }

    public override void AfterEpoch(Trainer trainer)
    {
        var losses = Losses(trainer);
        double mean = losses.Count > _epochStart ? losses.Skip(_epochStart).Average() : double.NaN;
        if (trainer.Training) _epochTrainLoss = mean;
        if (!trainer.LastPhaseOfEpoch) return; // the record waits for the valid phase
        _epochs.Add(new EpochRecord([], _epochTrainLoss, trainer.Training ? null : mean, trainer.Epoch, _clock.Elapsed));
        _epochEnds.Add(_trainLosses.Count);
    }

    private List<double> Losses(Trainer trainer) => trainer.Training ? _trainLosses : _validLosses;
}
