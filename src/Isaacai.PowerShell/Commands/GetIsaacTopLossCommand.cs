using System.Management.Automation;
using Isaacai.Interpretation;
using Isaacai.Plots;

namespace Isaacai.PowerShell.Commands;

/// <summary>
/// Get-IsaacTopLoss: the valid samples the trainer's model gets most wrong, worst first: index in the split,
/// file (for image files), actual and predicted class, loss, and the probabilities of the actual and the
/// predicted class. One pass of the model over the split.
/// </summary>
[Cmdlet(VerbsCommon.Get, "IsaacTopLoss")]
[OutputType(typeof(TopLoss))]
public sealed class GetIsaacTopLossCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [TrainerArgument]
    public Trainer Trainer { get; set; } = null!;

    [Parameter(Position = 1)]
    [ValidateRange(1, int.MaxValue)]
    public int Count { get; set; } = InterpretationPlots.DefaultTopLossCount;

    protected override void ProcessRecord()
    {
        foreach (var loss in Interpretations.Of(this, Trainer).TopLosses(Count)) WriteObject(loss);
    }
}
