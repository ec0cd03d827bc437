using System.Management.Automation;
using Isaacai.Data;
using Isaacai.Models;

namespace Isaacai.PowerShell.Commands;

/// <summary>New-IsaacMlp: a multilayer perceptron, sized by hand or from a dataset.</summary>
[Cmdlet(VerbsCommon.New, "IsaacMlp")]
[OutputType(typeof(Mlp))]
public sealed class NewIsaacMlpCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [AllowEmptyCollection]
    [ValidateRange(1, int.MaxValue)]
    public int[] HiddenSize { get; set; } = [];

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int InputSize { get; set; }

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int OutputSize { get; set; }

    [Parameter]
    public MlpActivation Activation { get; set; } = MlpActivation.ReLU;

    [Parameter]
    [ValidateRange(0.0, 0.999)]
    public double Dropout { get; set; }

    [Parameter]
    public SwitchParameter BatchNorm { get; set; }

    [Parameter(ValueFromPipeline = true)]
    public DatasetDict? Dataset { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
            int inputs = DatasetShapes.Resolve(nameof(InputSize), DatasetShapes.Bound(MyInvocation, nameof(InputSize), InputSize), Dataset, DatasetShapes.FlatInputSize);
            int outputs = DatasetShapes.Resolve(nameof(OutputSize), DatasetShapes.Bound(MyInvocation, nameof(OutputSize), OutputSize), Dataset, DatasetShapes.OutputSize);
            WriteObject(new Mlp(inputs, HiddenSize, outputs, Activation, Dropout, BatchNorm));
        }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidModelSize", ErrorCategory.InvalidArgument, Dataset));
        }
    }
}
