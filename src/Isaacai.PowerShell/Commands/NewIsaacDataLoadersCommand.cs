using System.Management.Automation;
using Isaacai.Data;

namespace Isaacai.PowerShell.Commands;

/// <summary>New-IsaacDataLoaders: a shuffled train loader and an ordered valid loader over a dataset dict.</summary>
[Cmdlet(VerbsCommon.New, "IsaacDataLoaders")]
[OutputType(typeof(DataLoaders))]
public sealed class NewIsaacDataLoadersCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public DatasetDict Dataset { get; set; } = null!;

    [Parameter(Position = 1)]
    [ValidateRange(1, int.MaxValue)]
    public int BatchSize { get; set; } = 64;

    protected override void ProcessRecord()
    {
        try { WriteObject(DataLoaders.FromDatasetDict(Dataset, BatchSize)); }
        catch (ArgumentException e) { ThrowTerminatingError(new ErrorRecord(e, "InvalidDataset", ErrorCategory.InvalidArgument, Dataset)); }
        catch (ObjectDisposedException e) { ThrowTerminatingError(new ErrorRecord(e, "DatasetDisposed", ErrorCategory.InvalidArgument, Dataset)); }
    }
}
