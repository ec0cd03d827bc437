using System.Management.Automation;

namespace Isaacai.PowerShell.Commands;

/// <summary>Get-IsaacCallback: for each hook, the callbacks that will run there, in the order they will run.</summary>
[Cmdlet(VerbsCommon.Get, "IsaacCallback")]
[OutputType(typeof(HookCallback))]
public sealed class GetIsaacCallbackCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [TrainerArgument]
    public Trainer Trainer { get; set; } = null!;

    [Parameter(Position = 1)]
    [ArgumentCompleter(typeof(HookNameCompleter))]
    public string[]? Hook { get; set; }

    protected override void ProcessRecord()
    {
        IEnumerable<Hook> hooks;
        try { hooks = Hook is null ? HookNames.All : Hook.Select(HookNames.Parse).ToList(); }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "UnknownHook", ErrorCategory.InvalidArgument, Hook));
            return;
        }
        foreach (var hook in hooks)
        {
            var callbacks = Trainer.CallbacksFor(hook);
            for (int i = 0; i < callbacks.Count; i++) WriteObject(new HookCallback(HookNames.ToSeedName(hook), i + 1, callbacks[i]));
        }
    }
}
