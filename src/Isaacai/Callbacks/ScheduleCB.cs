using Isaacai.Checkpoints;
using Isaacai.Schedules;
using static TorchSharp.torch;

namespace Isaacai.Callbacks;

/// <summary>When a schedule moves the learning rate: before every train batch, or at the start of every epoch.</summary>
public enum ScheduleInterval { Batch, Epoch }

/// <summary>
/// A learning-rate schedule of your own: either a function of where the fit is (<see cref="ScheduleStep"/>)
/// that returns the learning rate, or one of TorchSharp's LR schedulers, made over each fit's optimizer and
/// stepped after every train batch or every epoch. A function depends only on where the fit is, so a
/// resumed fit follows it exactly; a scheduler's steps are counted in checkpoints and replayed on resume.
/// </summary>
public class ScheduleCB : Callback, ICheckpointable
{
    private readonly Func<ScheduleStep, double>? _schedule;
    private readonly Func<optim.Optimizer, optim.lr_scheduler.LRScheduler>? _makeScheduler;
    private optim.lr_scheduler.LRScheduler? _scheduler;
    private optim.Optimizer? _scheduled; // the optimizer _scheduler was made over
    private int _steps, _stepsToReplay;

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

    // A resumed fit restores the steps to replay after this; any other fit starts the schedule afresh.
    public override void BeforeFit(Trainer trainer) => (_scheduler, _scheduled, _steps, _stepsToReplay) = (null, null, 0, 0);

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
        if (trainer.Training && Interval == ScheduleInterval.Batch) StepScheduler(trainer);
    }

    public override void AfterEpoch(Trainer trainer)
    {
        if (trainer.Training && Interval == ScheduleInterval.Epoch) StepScheduler(trainer);
    }

    public override void CleanupFit(Trainer trainer) => (_scheduler, _scheduled) = (null, null);

    public void SaveState(CallbackState state) => state.Values["scheduler_steps"] = _steps;

    public void RestoreState(CallbackState state) => _stepsToReplay = (int)state.Value("scheduler_steps");

    /// <summary>
    /// Steps the TorchSharp scheduler, made when first needed over the optimizer the fit steps (before_fit is
    /// too early: moving the model to a device makes a new optimizer), after replaying a resumed fit's steps.
    /// </summary>
    private void StepScheduler(Trainer trainer)
    {
        if (_makeScheduler is null) return;
        if (_scheduler is null || !ReferenceEquals(_scheduled, trainer.Opt))
        {
            _scheduled = trainer.Opt ?? throw new InvalidOperationException("The fit has no optimizer to schedule.");
            if (_stepsToReplay > 0) // a resumed optimizer holds the scheduled rate: replay from the rate the schedule began at
                foreach (var group in _scheduled.ParamGroups.Where(g => g.InitialLearningRate > 0)) group.LearningRate = group.InitialLearningRate;
            _scheduler = _makeScheduler(_scheduled);
            for (; _stepsToReplay > 0; _stepsToReplay--, _steps++) _scheduler.step();
        }
        _scheduler.step();
        _steps++;
    }

    private void SetLr(Trainer trainer)
    {
        double lr = _schedule!(ScheduleStep.Of(trainer));
        if (!(lr >= 0 && double.IsFinite(lr)))
            throw new InvalidOperationException($"The schedule gave the learning rate {lr} at epoch {trainer.Epoch}, batch {trainer.Iter}; it must be a finite number, 0 or more.");
        OptimizerSettings.SetLr(trainer.Opt!, lr);
    }
}
