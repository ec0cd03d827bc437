using System.Collections;
using System.Management.Automation;

namespace Isaacai.PowerShell.Commands;

/// <summary>Add-IsaacCallback: adds a scriptblock for one hook, a hashtable of hooks, or a callback object.</summary>
[Cmdlet(VerbsCommon.Add, "IsaacCallback", DefaultParameterSetName = ScriptBlockSet)]
[OutputType(typeof(Callback))]
public sealed class AddIsaacCallbackCommand : CallbackCommandBase
{
    public const string ScriptBlockSet = "ScriptBlock", HooksSet = "Hooks", CallbackSet = "Callback";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [TrainerArgument]
    public Trainer Trainer { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ScriptBlockSet)]
    [ArgumentCompleter(typeof(HookNameCompleter))]
    public string Hook { get; set; } = "";

    [Parameter(Mandatory = true, Position = 2, ParameterSetName = ScriptBlockSet)]
    public ScriptBlock ScriptBlock { get; set; } = null!;

    [Parameter(Mandatory = true, ParameterSetName = HooksSet)]
    public Hashtable Hooks { get; set; } = null!;

    [Parameter(Mandatory = true, ParameterSetName = CallbackSet)]
    public PSObject Callback { get; set; } = null!;

    protected override void ProcessRecord()
    {
        Callback callback;
        try
        {
            callback = ParameterSetName switch
            {
                ScriptBlockSet => new ScriptBlockCallback(new Dictionary<Hook, ScriptBlock> { [HookNames.Parse(Hook)] = ScriptBlock }),
                HooksSet => CallbackAdapter.FromHashtable(Hooks),
                _ => CallbackAdapter.FromObject(Callback),
            };
        }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, ParameterSetName == CallbackSet ? "NotACallback" : "UnknownHook", ErrorCategory.InvalidArgument,
                ParameterSetName == ScriptBlockSet ? Hook : ParameterSetName == HooksSet ? Hooks : Callback));
            return;
        }
        // -ErrorAction also says what a failure of a script callback will do during the fit (Stop unless given).
        if (callback is ScriptCallback script && MyInvocation.BoundParameters.TryGetValue("ErrorAction", out var errorAction))
            script.ErrorAction = (ActionPreference)errorAction;
        Trainer.AddCallbacks(WithOrderAndName(callback));
        WriteObject(callback);
    }
}
