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

    /// <summary>Names of the trainer's callbacks this one must run before, whatever the orders.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(TrainerCallbackNameCompleter))]
    public string[] Before { get; set; } = [];

    /// <summary>Names of the trainer's callbacks this one must run after, whatever the orders.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(TrainerCallbackNameCompleter))]
    public string[] After { get; set; } = [];

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
        WithOrderAndName(callback);
        try { AddInOrder(callback); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidCallbackOrder", ErrorCategory.InvalidArgument, callback));
        }
        WriteObject(callback);
    }

    /// <summary>Adds the callback with its -Before/-After constraints, or leaves the trainer as it was if they name no callback or form a cycle.</summary>
    private void AddInOrder(Callback callback)
    {
        var names = Trainer.Callbacks.Select(c => c.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var unknown = Before.Concat(After).Where(n => !names.Contains(n)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"-Before/-After name no callback of this trainer: {string.Join(", ", unknown)}. Its callbacks are: {string.Join(", ", names)}.");
        callback.RunsBefore.UnionWith(Before);
        callback.RunsAfter.UnionWith(After);
        Trainer.AddCallbacks(callback);
        try { Trainer.CallbacksFor(Isaacai.Hook.BeforeFit); } // sorts now, so a cycle is refused here and not at the next fit
        catch
        {
            Trainer.RemoveCallback(callback);
            throw;
        }
    }
}
