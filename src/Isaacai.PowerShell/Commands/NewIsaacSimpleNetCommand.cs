using System.Management.Automation;
using Isaacai.Models;

namespace Isaacai.PowerShell.Commands;

/// <summary>New-IsaacSimpleNet: the seed's model, flatten → linear → ReLU → linear.</summary>
[Cmdlet(VerbsCommon.New, "IsaacSimpleNet")]
[OutputType(typeof(SimpleNet))]
public sealed class NewIsaacSimpleNetCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateRange(1, int.MaxValue)]
    public int InputSize { get; set; }

    [Parameter(Mandatory = true, Position = 1)]
    [ValidateRange(1, int.MaxValue)]
    public int HiddenSize { get; set; }

    [Parameter(Mandatory = true, Position = 2)]
    [ValidateRange(1, int.MaxValue)]
    public int OutputSize { get; set; }

    protected override void ProcessRecord() => WriteObject(new SimpleNet(InputSize, HiddenSize, OutputSize));
}
