using System.Management.Automation;
using Isaacai.Inference;
using Isaacai.SavedModels;

namespace Isaacai.PowerShell.Commands;

/// <summary>
/// Export-IsaacModel: a trainer's model (or a predictor) to one file with its weights, architecture, target
/// and preprocessing; or, to a .safetensors path, just the weights for PyTorch. Written atomically.
/// </summary>
[Cmdlet(VerbsData.Export, "IsaacModel", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = TrainerSet)]
[OutputType(typeof(void))]
public sealed class ExportIsaacModelCommand : FileWritingCommand
{
    public const string TrainerSet = "Trainer", PredictorSet = "Predictor";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = TrainerSet)]
    [TrainerArgument]
    public Trainer Trainer { get; set; } = null!;

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = PredictorSet)]
    public Predictor Predictor { get; set; } = null!;

    protected override void ProcessRecord()
    {
        var predictor = ParameterSetName == TrainerSet ? Predictor.FromTrainer(Trainer) : Predictor;
        bool weightsOnly = Path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase);
        if (ConfirmWrite(weightsOnly ? "the model's weights (safetensors)" : "the model, its target and preprocessing", "ModelFileExists") is not { } path) return;
        try
        {
            using (ParameterSetName == TrainerSet ? Trainer.ClaimOrJoin() : null) // not while another runspace's fit steps the weights
            {
                if (weightsOnly) ModelFile.SaveWeights(path, predictor.Model);
                else ModelFile.Save(path, predictor);
            }
            WriteVerbose($"Wrote {predictor} to {path} ({new FileInfo(path).Length:N0} bytes)");
        }
        catch (TrainerBusyException e)
        {
            ThrowTerminatingError(EngineErrors.Busy(e, Trainer));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            ThrowTerminatingError(new ErrorRecord(e, "ModelFileNotWritten", ErrorCategory.WriteError, path));
        }
    }
}
