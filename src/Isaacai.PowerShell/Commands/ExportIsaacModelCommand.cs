using System.Management.Automation;
using Isaacai.Inference;
using Isaacai.Onnx;
using Isaacai.SavedModels;

namespace Isaacai.PowerShell.Commands;

/// <summary>
/// Export-IsaacModel: a trainer's model (or a predictor) to one file with its weights, architecture, target
/// and preprocessing; to a .safetensors path, just the weights for PyTorch; to an .onnx path, an ONNX model
/// for ONNX Runtime. Written atomically.
/// </summary>
[Cmdlet(VerbsData.Export, "IsaacModel", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = TrainerSet)]
[OutputType(typeof(void))]
public sealed class ExportIsaacModelCommand : FileWritingCommand
{
    public const string TrainerSet = "Trainer", PredictorSet = "Predictor";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = TrainerSet)]
    [TrainerArgument(AlsoTakes = [typeof(Predictor)])]
    public Trainer Trainer { get; set; } = null!;

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = PredictorSet)]
    public Predictor Predictor { get; set; } = null!;

    /// <summary>What to write; by default the path's extension decides (.safetensors, .onnx, anything else .isaac).</summary>
    [Parameter]
    public ModelFileFormat Format { get; set; }

    protected override void ProcessRecord()
    {
        var predictor = ParameterSetName == TrainerSet ? Predictor.FromTrainer(Trainer) : Predictor;
        var format = MyInvocation.BoundParameters.ContainsKey(nameof(Format)) ? Format
            : Path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) ? ModelFileFormat.Safetensors
            : Path.EndsWith(OnnxExport.Extension, StringComparison.OrdinalIgnoreCase) ? ModelFileFormat.Onnx
            : ModelFileFormat.Isaac;
        string what = format switch
        {
            ModelFileFormat.Safetensors => "the model's weights (safetensors)",
            ModelFileFormat.Onnx => $"the model and its preprocessing as ONNX (opset {OnnxExport.Opset})",
            _ => "the model, its target and preprocessing",
        };
        if (ConfirmWrite(what, "ModelFileExists") is not { } path) return;
        try
        {
            using (ParameterSetName == TrainerSet ? Trainer.ClaimOrJoin() : null) // not while another runspace's fit steps the weights
            {
                switch (format)
                {
                    case ModelFileFormat.Safetensors: ModelFile.SaveWeights(path, predictor.Model); break;
                    // A trainer's data says one sample's shape where the predictor cannot (tensors rather than a table or images).
                    case ModelFileFormat.Onnx: OnnxExport.Save(path, predictor, predictor.InputShape ?? (ParameterSetName == TrainerSet ? Trainer.Dls.Train.Dataset.InputShape : null)); break;
                    default: ModelFile.Save(path, predictor); break;
                }
            }
            WriteVerbose($"Wrote {predictor} to {path} ({new FileInfo(path).Length:N0} bytes)");
        }
        catch (TrainerBusyException e)
        {
            ThrowTerminatingError(EngineErrors.Busy(e, Trainer));
        }
        catch (OnnxExportException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "ModelNotExportable", ErrorCategory.NotImplemented, predictor.Model));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            ThrowTerminatingError(new ErrorRecord(e, "ModelFileNotWritten", ErrorCategory.WriteError, path));
        }
    }
}
