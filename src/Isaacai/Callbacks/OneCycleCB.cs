using Isaacai.Schedules;

namespace Isaacai.Callbacks;

/// <summary>
/// fastai's one-cycle policy, set before every train batch: the learning rate rises along a cosine from
/// MaxLr/Div to MaxLr over the first PctStart of the fit's train batches, then falls along a cosine to
/// MaxLr/DivFinal at the last batch; momentum (beta1 for Adam) moves the other way, from MaxMomentum down to
/// MinMomentum and back. It depends only on where the fit is, so a resumed fit follows the same curve.
/// </summary>
public class OneCycleCB : Callback
{
    public OneCycleCB(double maxLr, double div = 25, double divFinal = 1e5, double pctStart = 0.25,
                      double maxMomentum = 0.95, double minMomentum = 0.85)
    {
        MaxLr = maxLr > 0 && double.IsFinite(maxLr) ? maxLr : throw new ArgumentOutOfRangeException(nameof(maxLr), maxLr, "MaxLr must be a positive finite number.");
        Div = div >= 1 && double.IsFinite(div) ? div : throw new ArgumentOutOfRangeException(nameof(div), div, "Div must be a finite number, 1 or more.");
        DivFinal = divFinal >= 1 && double.IsFinite(divFinal) ? divFinal : throw new ArgumentOutOfRangeException(nameof(divFinal), divFinal, "DivFinal must be a finite number, 1 or more.");
        PctStart = pctStart is >= 0 and <= 1 ? pctStart : throw new ArgumentOutOfRangeException(nameof(pctStart), pctStart, "PctStart must be between 0 and 1.");
        if (maxMomentum is not (>= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(maxMomentum), maxMomentum, "MaxMomentum must be at least 0 and below 1.");
        if (minMomentum is not (>= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(minMomentum), minMomentum, "MinMomentum must be at least 0 and below 1.");
        (MaxMomentum, MinMomentum) = (maxMomentum, minMomentum);
        Order = -10; // before the step of the batch it sets, and before callbacks that read the learning rate
    }

    public double MaxLr { get; }
    public double Div { get; }
    public double DivFinal { get; }
    public double PctStart { get; }
    public double MaxMomentum { get; }
    public double MinMomentum { get; }

    /// <summary>The learning rate at <paramref name="progress"/> (0 = first train batch, 1 = last).</summary>
    public double LrAt(double progress) => progress < PctStart
        ? Annealing.Cosine(MaxLr / Div, MaxLr, progress / PctStart)
        : Annealing.Cosine(MaxLr, MaxLr / DivFinal, PctStart >= 1 ? 1 : (progress - PctStart) / (1 - PctStart));

    public double MomentumAt(double progress) => progress < PctStart
        ? Annealing.Cosine(MaxMomentum, MinMomentum, progress / PctStart)
        : Annealing.Cosine(MinMomentum, MaxMomentum, PctStart >= 1 ? 1 : (progress - PctStart) / (1 - PctStart));

    public override void BeforeBatch(Trainer trainer)
    {
        if (!trainer.Training) return;
        var optimizer = trainer.Opt ?? throw new InvalidOperationException("OneCycleCB needs the trainer's optimizer, which the fit makes before before_fit.");
        double progress = ScheduleStep.Of(trainer).Progress;
        OptimizerSettings.SetLr(optimizer, LrAt(progress));
        OptimizerSettings.SetMomentum(optimizer, MomentumAt(progress));
    }
}
