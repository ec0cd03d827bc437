using System.Management.Automation;
using Isaacai.Callbacks;

namespace Isaacai.PowerShell.Commands;

/// <summary>
/// Invoke-IsaacFit: runs the fit on the pipeline thread, writing each epoch's record as the epoch ends.
/// Ctrl+C stops at the next batch boundary as a CancelFit, so cleanup hooks run and the trainer stays usable.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "IsaacFit", DefaultParameterSetName = FitSet)]
[OutputType(EpochRecordObject.TypeName)]
public sealed class InvokeIsaacFitCommand : PSCmdlet, IDisposable
{
    public const string FitSet = "Fit", FineTuneSet = "FineTune";

    private readonly CancellationTokenSource _stop = new();

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [TrainerArgument]
    public Trainer Trainer { get; set; } = null!;

    [Parameter(Position = 1)]
    [ValidateRange(0, int.MaxValue)]
    public int Epochs { get; set; } = 1;

    [Parameter(ParameterSetName = FitSet)]
    public SwitchParameter NoTrain { get; set; }

    [Parameter(ParameterSetName = FitSet)]
    public SwitchParameter NoValid { get; set; }

    /// <summary>The fit's learning rate; with -OneCycle, the peak of the cycle; with -FineTune, fastai's base_lr.</summary>
    [Parameter]
    [ValidatePositiveFinite]
    public double LearningRate { get; set; }

    /// <summary>Trains this fit with fastai's one-cycle policy peaking at -LearningRate (or the trainer's Lr).</summary>
    [Parameter(ParameterSetName = FitSet)]
    public SwitchParameter OneCycle { get; set; }

    /// <summary>A checkpoint to go on from: the fit starts at the first epoch the checkpoint had not finished.</summary>
    [Parameter(ParameterSetName = FitSet)]
    [ValidateNotNullOrEmpty]
    public string? Resume { get; set; }

    /// <summary>
    /// fastai's fine_tune: -FreezeEpochs with the body frozen, then -Epochs of everything at discriminative rates
    /// (body at -LearningRate/200, head at -LearningRate/2), each under one-cycle.
    /// </summary>
    [Parameter(Mandatory = true, ParameterSetName = FineTuneSet)]
    public SwitchParameter FineTune { get; set; }

    [Parameter(ParameterSetName = FineTuneSet)]
    [ValidateRange(0, int.MaxValue)]
    public int FreezeEpochs { get; set; } = 1;

    protected override void ProcessRecord()
    {
        double? lr = MyInvocation.BoundParameters.ContainsKey(nameof(LearningRate)) ? LearningRate : null;
        if (ParameterSetName == FineTuneSet)
        {
            FineTuneModel(lr ?? Trainer.Lr);
            return;
        }
        var oneCycle = OneCycle ? NewOneCycle(lr ?? Trainer.Lr) : null;
        using var checkpoint = Resume is null ? null : LoadCheckpoint(Resume);
        var reporter = new PipelineReporter(this);
        var progress = ProgressIsShown() && !Trainer.Callbacks.OfType<ProgressCB>().Any() ? new ProgressCB() : null;
        var forThisFit = new Callback?[] { progress, oneCycle }.OfType<Callback>().ToList();
        using var fitting = SharedGenerator.EnterFit(this, Trainer);
        try
        {
            Trainer.Fit(Epochs, train: !NoTrain, valid: !NoValid, lr, _stop.Token, forThisFit, reporter, reporter, checkpoint);
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            ThrowTerminatingError(EngineErrors.ForFit(this, e, Trainer, "FitFailed"));
        }
    }

    private void FineTuneModel(double baseLr)
    {
        if (Trainer.Model is not Isaacai.Models.IHasParameterGroups)
            ThrowTerminatingError(new ErrorRecord(new ArgumentException($"-FineTune needs a model with a body and a head, such as New-IsaacVisionModel's; this trainer's model is {Trainer.Model.GetType().FullName}."),
                "ModelHasNoBody", ErrorCategory.InvalidArgument, Trainer));
        if (Trainer.Callbacks.OfType<OneCycleCB>().Any())
            ThrowTerminatingError(new ErrorRecord(new InvalidOperationException("The trainer already has a OneCycle callback, and -FineTune brings its own for each phase; remove that callback first."),
                "OneCycleTwice", ErrorCategory.InvalidOperation, Trainer));
        var reporter = new PipelineReporter(this);
        var progress = ProgressIsShown() && !Trainer.Callbacks.OfType<ProgressCB>().Any() ? new ProgressCB() : null;
        try
        {
            Isaacai.Training.FineTuning.FineTune(Trainer, Epochs, baseLr, FreezeEpochs, cancellation: _stop.Token,
                callbacks: progress is null ? null : [progress], reporter: reporter, logger: reporter);
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            ThrowTerminatingError(EngineErrors.ForFit(this, e, Trainer, "FitFailed"));
        }
    }

    protected override void StopProcessing() => _stop.Cancel();

    private OneCycleCB NewOneCycle(double maxLr)
    {
        if (Trainer.Callbacks.OfType<OneCycleCB>().Any())
            ThrowTerminatingError(new ErrorRecord(new InvalidOperationException("The trainer already has a OneCycle callback; leave out -OneCycle, or remove that callback."),
                "OneCycleTwice", ErrorCategory.InvalidOperation, Trainer));
        return new OneCycleCB(maxLr);
    }

    private Isaacai.Checkpoints.Checkpoint LoadCheckpoint(string path)
    {
        var full = GetUnresolvedProviderPathFromPSPath(path);
        Isaacai.Checkpoints.Checkpoint checkpoint;
        try { checkpoint = Isaacai.Checkpoints.Checkpoint.Load(full, Trainer.Model); }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidCheckpoint", ErrorCategory.InvalidData, full));
            throw; // not reached: ThrowTerminatingError throws
        }
        if (checkpoint.EpochsCompleted >= Epochs)
            WriteWarning($"{full} has already done {checkpoint.EpochsCompleted} epoch(s) of the {Epochs} asked for: no epoch is left to train. Ask for more epochs (-Epochs {(long)checkpoint.EpochsCompleted + 1} or more) to go on.");
        return checkpoint;
    }

    public void Dispose() => _stop.Dispose();

    private bool ProgressIsShown() =>
        !LanguagePrimitives.TryConvertTo(SessionState.PSVariable.GetValue("ProgressPreference"), out ActionPreference preference)
        || preference is not (ActionPreference.SilentlyContinue or ActionPreference.Ignore);
}
