namespace Isaacai.Schedules;

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
