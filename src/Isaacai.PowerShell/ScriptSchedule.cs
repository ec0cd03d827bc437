using System.Globalization;
using System.Management.Automation;
using Isaacai.Schedules;

namespace Isaacai.PowerShell;

/// <summary>
/// A scriptblock as a learning-rate schedule: it gets the <see cref="ScheduleStep"/> as <c>$_</c>,
/// <c>$args[0]</c> or <c>param($s)</c> and returns the rate. It runs where the fit runs, on the pipeline
/// thread, as a hook script does: with <c>$ErrorActionPreference = 'Stop'</c>, its failures becoming a
/// <see cref="ScriptCallbackException"/> and a stop of the pipeline a CancelFit.
/// </summary>
public static class ScriptSchedule
{
    public static Func<ScheduleStep, double> Of(ScriptBlock script)
    {
        var dollarUnder = new PSVariable("_", null);
        var errorActionPreference = new PSVariable("ErrorActionPreference", ActionPreference.Stop);
        var variables = new List<PSVariable>(2);
        return step =>
        {
            // Refilled each call: InvokeWithContext takes $_ out of the list and puts the rest in the script's scope.
            (dollarUnder.Value, errorActionPreference.Value) = (step, ActionPreference.Stop);
            variables.Clear();
            variables.AddRange([errorActionPreference, dollarUnder]);
            System.Collections.ObjectModel.Collection<PSObject> output;
            try { output = script.InvokeWithContext(null, variables, step); }
            catch (Exception e) { throw ScriptCallback.Translate(e, "schedule", nameof(Callbacks.ScheduleCB)); }
            var values = output.Where(o => o is not null).Select(o => o.BaseObject).ToList();
            return values is [var value] && LanguagePrimitives.TryConvertTo(value, CultureInfo.InvariantCulture, out double lr) ? lr
                : throw new InvalidOperationException($"The schedule scriptblock must return one learning rate (a number) at step {step.Step}; it returned "
                    + (values.Count == 0 ? "nothing." : values.Count > 1 ? $"{values.Count} values ({string.Join(", ", values.Take(3))})." : $"'{values[0]}'."));
        };
    }
}
