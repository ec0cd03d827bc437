using System.Management.Automation;
using Isaacai.Data;
using Isaacai.Models;

namespace Isaacai.PowerShell.Commands;

/// <summary>New-IsaacConvNet: the conv → batch norm → ReLU image classifier of fastai's course.</summary>
[Cmdlet(VerbsCommon.New, "IsaacConvNet")]
[OutputType(typeof(ConvNet))]
public sealed class NewIsaacConvNetCommand : PSCmdlet
{
    [Parameter(Position = 0)]
    [ValidateRange(1, int.MaxValue)]
    public int[] Channels { get; set; } = [8, 16, 32, 64];

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int InputChannels { get; set; }

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int OutputSize { get; set; }

    [Parameter]
    [ValidateSet("1", "3", "5", "7")]
    public int KernelSize { get; set; } = 3;

    [Parameter(ValueFromPipeline = true)]
    public DatasetDict? Dataset { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
            int inputs = DatasetShapes.Resolve(nameof(InputChannels), DatasetShapes.Bound(MyInvocation, nameof(InputChannels), InputChannels) ?? (Dataset is null ? 1 : null), Dataset, DatasetShapes.Channels);
            int outputs = DatasetShapes.Resolve(nameof(OutputSize), DatasetShapes.Bound(MyInvocation, nameof(OutputSize), OutputSize), Dataset, DatasetShapes.OutputSize);
            WriteObject(new ConvNet(new ConvNetOptions(inputs, Channels, outputs, KernelSize)));
        }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidModelSize", ErrorCategory.InvalidArgument, Dataset));
        }
    }
}
