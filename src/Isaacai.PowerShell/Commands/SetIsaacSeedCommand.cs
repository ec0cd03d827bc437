using System.Management.Automation;

namespace Isaacai.PowerShell.Commands;

/// <summary>Set-IsaacSeed: seeds torch, so model initialisation and shuffling repeat exactly.</summary>
[Cmdlet(VerbsCommon.Set, "IsaacSeed")]
[OutputType(typeof(void))]
public sealed class SetIsaacSeedCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    public long Seed { get; set; }

    protected override void ProcessRecord()
    {
        Isaac.SetSeed(Seed);
        SharedGenerator.Seeded(); // torch's generator is the process's, not this runspace's: fits elsewhere now draw from this seed too
    }
}
