using System.Management.Automation;
using Isaacai.Interpretation;

namespace Isaacai.PowerShell.Commands;

/// <summary>
/// Get-IsaacConfusionMatrix: how often each actual class of the valid split was predicted as each class, one
/// object per cell (Actual, Predicted, Count), from one pass of the trainer's model over the split. -MostConfused
/// gives fastai's most_confused instead: the wrong pairs, most frequent first.
/// </summary>
[Cmdlet(VerbsCommon.Get, "IsaacConfusionMatrix", DefaultParameterSetName = MatrixSet)]
[OutputType(typeof(ConfusionRow))]
public sealed class GetIsaacConfusionMatrixCommand : PSCmdlet
{
    private const string MatrixSet = "Matrix", MostConfusedSet = "MostConfused";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [TrainerArgument]
    public Trainer Trainer { get; set; } = null!;

    [Parameter(ParameterSetName = MatrixSet)]
    public SwitchParameter NonZero { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = MostConfusedSet)]
    public SwitchParameter MostConfused { get; set; }

    [Parameter(ParameterSetName = MostConfusedSet)]
    [ValidateRange(1, long.MaxValue)]
    public long MinCount { get; set; } = 1;

    protected override void ProcessRecord()
    {
        var matrix = Interpretations.Of(this, Trainer).ConfusionMatrix();
        WriteVerbose($"{matrix.Total} valid samples in {matrix.Classes.Count} classes");
        var rows = MostConfused ? matrix.MostConfused(MinCount) : matrix.Rows(NonZero);
        foreach (var row in rows) WriteObject(row);
    }
}
