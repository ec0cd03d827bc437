using System.Management.Automation;
using System.Runtime.InteropServices;
using Isaacai.Data;
using Isaacai.Models;
using static TorchSharp.torch;

namespace Isaacai.PowerShell.Commands;

/// <summary>
/// Get-IsaacModelSummary: Keras' model.summary() for any model: one object per layer (name, type, output shape for the
/// input, parameters, trainable or frozen), then the totals as a host message; -AsSummary gives the whole summary as one object.
/// </summary>
[Cmdlet(VerbsCommon.Get, "IsaacModelSummary", DefaultParameterSetName = InputShapeSet)]
[OutputType(typeof(LayerSummary), typeof(ModelSummary))]
public sealed class GetIsaacModelSummaryCommand : PSCmdlet
{
    public const string InputShapeSet = "InputShape", DatasetSet = "Dataset";

    /// <summary>Any model, or a trainer or a predictor (Import-IsaacModel), whose model is meant.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public object Model { get; set; } = null!;

    /// <summary>One sample's shape, without the batch: 3, 64, 64 for an RGB image; 784 for a flat one. A trainer's or predictor's own by default.</summary>
    [Parameter(Position = 1, ParameterSetName = InputShapeSet)]
    [ValidateRange(1, long.MaxValue)]
    public long[] InputShape { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = DatasetSet)]
    public DatasetDict Dataset { get; set; } = null!;

    [Parameter]
    public SwitchParameter AsSummary { get; set; }

    protected override void ProcessRecord()
    {
        var model = TorchObjects.ModelOf(Model);
        if (model is not nn.Module<Tensor, Tensor> module)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException($"-Model takes a model (a TorchSharp Module<Tensor, Tensor>), a trainer or a predictor; got {model?.GetType().FullName ?? "null"}."),
                "NotAModel", ErrorCategory.InvalidArgument, model));
            return;
        }
        var shape = ParameterSetName == DatasetSet ? null
            : InputShape.Length > 0 ? InputShape
            : TorchObjects.Unwrap(Model) switch
            {
                Trainer trainer => trainer.Dls.Train.Dataset.InputShape,
                Inference.Predictor { InputShape: { } known } => known,
                _ => null,
            };
        if (shape is null && ParameterSetName != DatasetSet)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("Give -InputShape (one sample's shape, such as 3, 64, 64) or -Dataset: this model does not say what it takes."),
                "InputShapeUnknown", ErrorCategory.InvalidArgument, module));
            return;
        }
        ModelSummary summary;
        try
        {
            summary = ModelSummary.Of(module, shape ?? DatasetShapes.InputShape(Dataset));
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or ExternalException)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException($"The model does not run on one input of that shape: {EngineErrors.WithoutNativeFrames(e.Message)}", e),
                "InputShapeDoesNotFit", ErrorCategory.InvalidArgument, module));
            return;
        }
        if (AsSummary)
        {
            WriteObject(summary);
            return;
        }
        WriteObject(summary.Layers, enumerateCollection: true);
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        WriteInformation(new HostInformationMessage
        {
            Message = $"Total params: {summary.TotalParameters.ToString("N0", invariant)}  trainable: {summary.TrainableParameters.ToString("N0", invariant)}  frozen: {summary.FrozenParameters.ToString("N0", invariant)}  (input [{string.Join(", ", summary.InputShape)}] → output [{string.Join(", ", summary.OutputShape)}])",
        }, ["PSHOST"]);
    }
}
