namespace Isaacai.Schedules;

/// <summary>Curves from a start value to an end value as progress goes from 0 to 1.</summary>
public static class Annealing
{
    /// <summary>Half a cosine: flat at both ends, as fastai's one-cycle uses.</summary>
    public static double Cosine(double start, double end, double progress) =>
        start + (1 - Math.Cos(Math.PI * Math.Clamp(progress, 0, 1))) * (end - start) / 2;

    /// <summary>Exponential: equal ratios in equal steps, as an LR range test sweeps.</summary>
    public static double Exponential(double start, double end, double progress) =>
        start * Math.Pow(end / start, Math.Clamp(progress, 0, 1));
}

/// <summary>Where the fit is when a schedule is asked for a value: the arguments of a schedule function.</summary>
/// <param name="Step">Train batches done in this fit before this one (0 for the first).</param>
/// <param name="TotalSteps">Train batches in the whole fit.</param>
/// <param name="Epoch">The running epoch.</param>
/// <param name="Iter">The batch within the epoch.</param>
public readonly record struct ScheduleStep(int Step, int TotalSteps, int Epoch, int Iter)
{
    /// <summary>Step / (TotalSteps - 1): 0 at the first train batch, 1 at the last.</summary>
    public double Progress => TotalSteps <= 1 ? 1 : (double)Step / (TotalSteps - 1);

    /// <summary>The running train batch of a fit.</summary>
    public static ScheduleStep Of(Trainer trainer)
    {
        int perEpoch = trainer.Dls.Train.BatchCount;
        return new ScheduleStep(trainer.Epoch * perEpoch + trainer.Iter, trainer.NEpochs * perEpoch, trainer.Epoch, trainer.Iter);
    }
}
