using System.Management.Automation;
using Isaacai.Runtime;

namespace Isaacai.PowerShell.Commands;

/// <summary>Set-IsaacThreads: libtorch's intra-op thread count for this process, usable right after Import-Module.</summary>
[Cmdlet(VerbsCommon.Set, "IsaacThreads")]
[OutputType(typeof(void))]
public sealed class SetIsaacThreadsCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateRange(1, 4096)]
    public int Count { get; set; }

    protected override void ProcessRecord()
    {
        if (Count > Environment.ProcessorCount)
            WriteWarning($"{Count} threads on {Environment.ProcessorCount} logical cores: more threads than cores wait on each other, and fits get slower (README, Threads).");
        TorchRuntime.SetThreads(Count, "Set-IsaacThreads");
    }
}
