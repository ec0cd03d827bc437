using System.Globalization;
using System.Management.Automation;
using Isaacai.Schedules;

namespace Isaacai.PowerShell;

/// <summary>
/// A scriptblock as a learning-rate schedule: it gets the <see cref="ScheduleStep"/> as <c>$_</c>,
/// <c>$args[0]</c> or <c>param($s)</c> and returns the rate. It runs where the fit runs, on the pipeline
/// thread; a failure surfaces as a <see cref="ScriptCallbackException"/> like any script callback's.
/// </summary>
public static class ScriptSchedule
{
    public static Func<ScheduleStep, double> Of(ScriptBlock script) => step =>
    {
        System.Collections.ObjectModel.Collection<PSObject> output;
        try { output = script.InvokeWithContext(null, [new PSVariable("_", step)], step); }
        catch (Exception e) when (e is RuntimeException or ArgumentException or InvalidOperationException or FormatException)
        {
            throw new ScriptCallbackException("before_batch", nameof(Callbacks.ScheduleCB), e, (e as IContainsErrorRecord)?.ErrorRecord);
        }
        var values = output.Where(o => o is not null).Select(o => o.BaseObject).ToList();
        return values is [var value] && LanguagePrimitives.TryConvertTo(value, CultureInfo.InvariantCulture, out double lr) ? lr
            : throw new InvalidOperationException($"The schedule scriptblock must return one learning rate (a number) at step {step.Step}; it returned "
                + (values.Count == 0 ? "nothing." : values.Count > 1 ? $"{values.Count} values ({string.Join(", ", values.Take(3))})." : $"'{values[0]}'."));
    };
}
