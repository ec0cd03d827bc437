using Isaacai.Schedules;
using static TorchSharp.torch;

namespace Isaacai.Callbacks;

/// <summary>When a schedule moves the learning rate: before every train batch, or at the start of every epoch.</summary>
public enum ScheduleInterval { Batch, Epoch }

/// <summary>
/// A learning-rate schedule of your own: either a function of where the fit is (<see cref="ScheduleStep"/>)
/// that returns the learning rate, or one of TorchSharp's LR schedulers, made over each fit's optimizer and
/// stepped after every train batch or every epoch.
/// </summary>
public class ScheduleCB : Callback
{
    private readonly Func<ScheduleStep, double>? _schedule;
    private readonly Func<optim.Optimizer, optim.lr_scheduler.LRScheduler>? _makeScheduler;
    private optim.lr_scheduler.LRScheduler? _scheduler;

    /// <summary>The learning rate is <paramref name="schedule"/>'s value, set before each batch or epoch.</summary>
    public ScheduleCB(Func<ScheduleStep, double> schedule, ScheduleInterval interval = ScheduleInterval.Batch)
    {
        _schedule = schedule ?? throw new ArgumentNullException(nameof(schedule));
        Interval = interval;
        Order = -10;
    }

    /// <summary>A TorchSharp scheduler, made by <paramref name="makeScheduler"/> over each fit's new optimizer.</summary>
    public ScheduleCB(Func<optim.Optimizer, optim.lr_scheduler.LRScheduler> makeScheduler, ScheduleInterval interval = ScheduleInterval.Epoch)
    {
        _makeScheduler = makeScheduler ?? throw new ArgumentNullException(nameof(makeScheduler));
        Interval = interval;
        Order = -10;
    }

    public ScheduleInterval Interval { get; }

    public override void BeforeFit(Trainer trainer)
    {
        if (_makeScheduler is not null) _scheduler = _makeScheduler(trainer.Opt ?? throw new InvalidOperationException("The fit has no optimizer yet."));
    }

    public override void BeforeEpoch(Trainer trainer)
    {
        if (trainer.Training && Interval == ScheduleInterval.Epoch && _schedule is not null) SetLr(trainer);
    }

    public override void BeforeBatch(Trainer trainer)
    {
        if (trainer.Training && Interval == ScheduleInterval.Batch && _schedule is not null) SetLr(trainer);
    }

    public override void AfterBatch(Trainer trainer)
    {
        if (trainer.Training && Interval == ScheduleInterval.Batch) _scheduler?.step();
    }

    public override void AfterEpoch(Trainer trainer)
    {
        if (trainer.Training && Interval == ScheduleInterval.Epoch) _scheduler?.step();
    }

    public override void CleanupFit(Trainer trainer) => _scheduler = null;

    private void SetLr(Trainer trainer)
    {
        double lr = _schedule!(ScheduleStep.Of(trainer));
        if (!(lr >= 0 && double.IsFinite(lr)))
            throw new InvalidOperationException($"The schedule gave the learning rate {lr} at epoch {trainer.Epoch}, batch {trainer.Iter}; it must be a finite number, 0 or more.");
        OptimizerSettings.SetLr(trainer.Opt!, lr);
    }
}
