using System.Management.Automation;
using Isaacai.Checkpoints;

namespace Isaacai.PowerShell.Commands;

/// <summary>
/// Save-IsaacCheckpoint: the trainer's model, optimizer state, random generator and callbacks' state to one
/// file, written atomically, to resume from later with Invoke-IsaacFit -Resume.
/// </summary>
[Cmdlet(VerbsData.Save, "IsaacCheckpoint", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(FileInfo))]
public sealed class SaveIsaacCheckpointCommand : FileWritingCommand
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [TrainerArgument]
    public Trainer Trainer { get; set; } = null!;

    /// <summary>Epochs done, which a resumed fit skips; by default the epochs the trainer's last fit finished, as its records say.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int EpochsCompleted { get; set; }

    protected override void ProcessRecord()
    {
        int epochs = MyInvocation.BoundParameters.ContainsKey(nameof(EpochsCompleted)) ? EpochsCompleted : Checkpoint.EpochsFinishedBy(Trainer);
        if (ConfirmWrite($"a checkpoint after {epochs} epoch(s)", "CheckpointExists") is not { } path) return;
        try
        {
            using (Trainer.ClaimOrJoin()) Checkpoint.Save(Trainer, path, epochs); // not while another runspace's fit steps it
            WriteObject(WrittenFile(this, path));
        }
        catch (TrainerBusyException e)
        {
            ThrowTerminatingError(EngineErrors.Busy(e, Trainer));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            ThrowTerminatingError(new ErrorRecord(e, "CheckpointNotWritten", ErrorCategory.WriteError, path));
        }
    }
}
