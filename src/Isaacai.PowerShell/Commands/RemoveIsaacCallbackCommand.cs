using System.Management.Automation;

namespace Isaacai.PowerShell.Commands;

/// <summary>Remove-IsaacCallback: removes callbacks from a trainer by name or by object.</summary>
[Cmdlet(VerbsCommon.Remove, "IsaacCallback", DefaultParameterSetName = ByNameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(void))]
public sealed class RemoveIsaacCallbackCommand : PSCmdlet
{
    public const string ByNameSet = "ByName", ByCallbackSet = "ByCallback";

    [Parameter(Mandatory = true, Position = 0)]
    [TrainerArgument]
    public Trainer Trainer { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ByNameSet)]
    [ArgumentCompleter(typeof(TrainerCallbackNameCompleter))]
    public string[] Name { get; set; } = [];

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByCallbackSet)]
    public Callback[] Callback { get; set; } = [];

    protected override void ProcessRecord()
    {
        if (ParameterSetName == ByCallbackSet)
        {
            foreach (var callback in Callback) Remove(callback, callback.Name);
            return;
        }
        foreach (var name in Name)
        {
            var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
            var matches = Trainer.Callbacks.Where(c => pattern.IsMatch(c.Name)).ToList();
            if (matches.Count == 0) NotFound(name);
            foreach (var callback in matches) Remove(callback, name);
        }
    }

    private void Remove(Callback callback, string shownAs)
    {
        if (!Trainer.Callbacks.Contains(callback)) { NotFound(shownAs); return; }
        if (!ShouldProcess($"callback '{callback.Name}' (order {callback.Order})", "Remove")) return;
        try { Trainer.RemoveCallback(callback); }
        catch (TrainerBusyException e) { ThrowTerminatingError(EngineErrors.Busy(e, Trainer)); }
    }

    private void NotFound(string name) => WriteError(new ErrorRecord(
        new ItemNotFoundException($"The trainer has no callback '{name}'. Its callbacks are: {string.Join(", ", Trainer.Callbacks.Select(c => c.Name))}."),
        "CallbackNotFound", ErrorCategory.ObjectNotFound, name));
}
