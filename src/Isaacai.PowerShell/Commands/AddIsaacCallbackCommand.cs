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

    /// <summary>A hashtable of hook names to scriptblocks; its keys complete with Tab.</summary>
    [Parameter(Mandatory = true, ParameterSetName = HooksSet)]
    public HookScripts Hooks { get; set; } = null!;

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
                HooksSet => CallbackAdapter.FromHashtable(Hooks.Hooks),
                _ => CallbackAdapter.FromObject(Callback),
            };
        }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, ParameterSetName == CallbackSet ? "NotACallback" : "UnknownHook", ErrorCategory.InvalidArgument,
                ParameterSetName == ScriptBlockSet ? Hook : ParameterSetName == HooksSet ? Hooks.Hooks : Callback));
            return;
        }
        try { AddInOrder(callback); }
        catch (TrainerBusyException e)
        {
            ThrowTerminatingError(EngineErrors.Busy(e, Trainer));
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            ThrowTerminatingError(new ErrorRecord(e, Trainer.Callbacks.Contains(callback) ? "CallbackAlreadyAdded" : "InvalidCallbackOrder", ErrorCategory.InvalidArgument, callback));
        }
        WriteObject(callback);
    }

    /// <summary>
    /// Adds the callback with its settings (-Order, -Name, -ErrorAction, -Before/-After). A refusal (the
    /// callback is already there, a name matches no callback, the constraints form a cycle, the trainer is
    /// busy) leaves the trainer and the callback as they were.
    /// </summary>
    private void AddInOrder(Callback callback)
    {
        if (Trainer.Callbacks.Contains(callback))
            throw new ArgumentException($"The callback '{callback.Name}' is already in this trainer; make a new one to add another.");
        var names = Trainer.Callbacks.Select(c => c.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var unknown = Before.Concat(After).Where(n => !names.Contains(n)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"-Before/-After name no callback of this trainer: {string.Join(", ", unknown)}. Its callbacks are: {string.Join(", ", names)}.");
        var (order, name, errorAction) = (callback.Order, callback.Name, (callback as ScriptCallback)?.ErrorAction);
        var newBefore = Before.Where(n => !callback.RunsBefore.Contains(n)).ToList();
        var newAfter = After.Where(n => !callback.RunsAfter.Contains(n)).ToList();
        // -ErrorAction also says what a failure of a script callback will do during the fit (Stop unless given).
        if (callback is ScriptCallback script && MyInvocation.BoundParameters.TryGetValue("ErrorAction", out var action))
            script.ErrorAction = (ActionPreference)action;
        WithOrderAndName(callback);
        callback.RunsBefore.UnionWith(newBefore);
        callback.RunsAfter.UnionWith(newAfter);
        try
        {
            Trainer.AddCallbacks(callback);
            Trainer.CallbacksFor(Isaacai.Hook.BeforeFit); // sorts now, so a cycle is refused here and not at the next fit
        }
        catch
        {
            if (Trainer.Callbacks.Contains(callback)) Trainer.RemoveCallback(callback);
            (callback.Order, callback.Name) = (order, name);
            if (callback is ScriptCallback restored) restored.ErrorAction = errorAction!.Value;
            callback.RunsBefore.ExceptWith(newBefore);
            callback.RunsAfter.ExceptWith(newAfter);
            throw;
        }
    }
}
