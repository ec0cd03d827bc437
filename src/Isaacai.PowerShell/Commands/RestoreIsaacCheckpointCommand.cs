using System.Management.Automation;
using Isaacai.Checkpoints;

namespace Isaacai.PowerShell.Commands;

/// <summary>
/// Restore-IsaacCheckpoint: puts a checkpoint's weights, optimizer state (if the trainer has an optimizer),
/// random generator and callbacks' state into a trainer now, to evaluate or predict with it. To go on
/// training from a checkpoint, use Invoke-IsaacFit -Resume, which restores it inside the fit.
/// </summary>
[Cmdlet(VerbsData.Restore, "IsaacCheckpoint", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(CheckpointInfo))]
public sealed class RestoreIsaacCheckpointCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [TrainerArgument]
    public Trainer Trainer { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    protected override void ProcessRecord()
    {
        var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        try
        {
            using var checkpoint = Checkpoint.Load(path, Trainer.Model);
            if (!ShouldProcess($"{Trainer.Model.GetName()} model of the trainer", $"Replace the weights and state with those of {path} (after {checkpoint.EpochsCompleted} epoch(s))")) return;
            if (Trainer.Opt is null) WriteVerbose("The trainer has no optimizer yet (it makes one per fit), so the checkpoint's optimizer state is not restored; Invoke-IsaacFit -Resume restores it.");
            using (Trainer.ClaimOrJoin()) checkpoint.RestoreInto(Trainer, new PipelineReporter(this));
            WriteObject(checkpoint.Info);
        }
        catch (TrainerBusyException e)
        {
            ThrowTerminatingError(EngineErrors.Busy(e, Trainer));
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or InvalidOperationException)
        {
            ThrowTerminatingError(new ErrorRecord(e, "CheckpointNotRestored", e is InvalidDataException or FileNotFoundException ? ErrorCategory.InvalidData : ErrorCategory.InvalidOperation, path));
        }
    }
}
