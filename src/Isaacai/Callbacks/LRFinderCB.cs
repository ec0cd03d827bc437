using Isaacai.Schedules;
using TorchSharp;

namespace Isaacai.Callbacks;

/// <summary>
/// The learning-rate range test (miniai's LRFinderCB, fastai's lr_find): the learning rate grows
/// exponentially from StartLr to EndLr over Iterations train batches while the loss is recorded; the fit
/// ends itself (CancelFit) after the last iteration, or early when the smoothed loss exceeds
/// StopDivergence times its best or is NaN. Valid phases are skipped. The model's weights are put back
/// when the fit ends, however it ends. See <see cref="LRFinder"/> for the whole procedure.
/// </summary>
public class LRFinderCB : Callback, IDisposable
{
    private readonly List<double> _lrs = [], _losses = [], _smoothed = [];
    private readonly WeightSnapshot _initialWeights = new();
    private Metrics.DebiasedAverage _average;
    private double _best;

    public LRFinderCB(double startLr = 1e-7, double endLr = 10, int iterations = 100, double stopDivergence = 4)
    {
        if (!(startLr > 0 && double.IsFinite(startLr))) throw new ArgumentOutOfRangeException(nameof(startLr), startLr, "StartLr must be a positive finite number.");
        if (!(endLr > startLr && double.IsFinite(endLr))) throw new ArgumentOutOfRangeException(nameof(endLr), endLr, $"EndLr must be finite and greater than StartLr ({startLr}).");
        if (iterations < 2) throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "Iterations must be at least 2.");
        if (!(stopDivergence > 1)) throw new ArgumentOutOfRangeException(nameof(stopDivergence), stopDivergence, "StopDivergence must be greater than 1 (a multiple of the best loss).");
        (StartLr, EndLr, Iterations, StopDivergence) = (startLr, endLr, iterations, stopDivergence);
        Order = -10; // sets the learning rate before the batch's step
    }

    public double StartLr { get; }
    public double EndLr { get; }
    public int Iterations { get; }
    public double StopDivergence { get; }

    public IReadOnlyList<double> Lrs => _lrs;
    public IReadOnlyList<double> Losses => _losses;
    public IReadOnlyList<double> SmoothedLosses => _smoothed;

    public override void BeforeFit(Trainer trainer)
    {
        _lrs.Clear();
        _losses.Clear();
        _smoothed.Clear();
        (_average, _best) = (new Metrics.DebiasedAverage(0.98), double.PositiveInfinity); // beta as fastai's Recorder
        _initialWeights.Take(trainer.Model);
    }

    public override void BeforeEpoch(Trainer trainer)
    {
        if (!trainer.Training) throw new CancelEpochException();
    }

    public override void BeforeBatch(Trainer trainer) =>
        OptimizerSettings.SetLr(trainer.Opt!, Annealing.Exponential(StartLr, EndLr, (double)_lrs.Count / (Iterations - 1)));

    public override void AfterBatch(Trainer trainer)
    {
        double loss = trainer.Loss!.ToDouble();
        _lrs.Add(OptimizerSettings.GetLr(trainer.Opt!));
        _losses.Add(loss);
        double smoothed = _average.Add(loss);
        _smoothed.Add(smoothed);
        _best = Math.Min(_best, smoothed);
        if (double.IsNaN(loss) || smoothed > StopDivergence * _best || _lrs.Count >= Iterations) throw new CancelFitException();
    }

    /// <summary>The weights go back even when the fit failed or was stopped.</summary>
    public override void CleanupFit(Trainer trainer)
    {
        if (!_initialWeights.IsEmpty) _initialWeights.RestoreInto(trainer.Model);
        _initialWeights.Clear();
    }

    public void Dispose()
    {
        _initialWeights.Dispose();
        GC.SuppressFinalize(this);
    }
}
