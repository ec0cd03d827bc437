using System.Management.Automation;
using Isaacai.Models;

namespace Isaacai.PowerShell;

/// <summary>What Lock-IsaacModel and Unlock-IsaacModel share: a model (or a trainer's) split into body and head, and -PassThru.</summary>
public abstract class FreezingCommand : PSCmdlet
{
    /// <summary>A model with a body and a head (such as New-IsaacVisionModel's), or a trainer, whose model is meant.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public object Model { get; set; } = null!;

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected abstract void Apply(IHasParameterGroups model);

    protected override void ProcessRecord()
    {
        var model = TorchObjects.ModelOf(Model);
        if (model is not IHasParameterGroups grouped)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException($"Only a model split into a body and a head can be frozen, such as New-IsaacVisionModel's; {model?.GetType().FullName ?? "null"} is not."),
                "ModelHasNoBody", ErrorCategory.InvalidArgument, model));
            return;
        }
        // A trainer's model is not frozen under a fit running elsewhere: its optimizer was made for the old state.
        try
        {
            using (TorchObjects.Unwrap(Model) is Trainer trainer ? trainer.ClaimOrJoin() : null) Apply(grouped);
        }
        catch (TrainerBusyException e)
        {
            ThrowTerminatingError(EngineErrors.Busy(e, (Trainer)TorchObjects.Unwrap(Model)!));
        }
        if (PassThru) WriteObject(model);
    }
}
