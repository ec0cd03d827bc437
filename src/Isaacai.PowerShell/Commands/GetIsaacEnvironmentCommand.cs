using System.Management.Automation;
using Isaacai.Runtime;

namespace Isaacai.PowerShell.Commands;

/// <summary>Get-IsaacEnvironment: versions, threads, devices and where the natives came from, for bug reports.</summary>
[Cmdlet(VerbsCommon.Get, "IsaacEnvironment")]
[OutputType(typeof(TorchEnvironment))]
public sealed class GetIsaacEnvironmentCommand : PSCmdlet
{
    protected override void ProcessRecord() => WriteObject(TorchRuntime.Describe());
}
