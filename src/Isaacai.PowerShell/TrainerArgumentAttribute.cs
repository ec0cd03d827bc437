using System.Management.Automation;

namespace Isaacai.PowerShell;

/// <summary>
/// Says plainly when a -Trainer argument is not a trainer. Without it, a wrong first positional argument
/// (<c>Add-IsaacCallback 'text' after_batch {}</c>) reads "A positional parameter cannot be found".
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class TrainerArgumentAttribute : ArgumentTransformationAttribute
{
    /// <summary>
    /// Types another parameter set of the command takes from the pipeline (Export-IsaacModel's Predictor): passed on
    /// untouched, so the binder tries that set instead of stopping at this error.
    /// </summary>
    public Type[] AlsoTakes { get; set; } = [];

    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = PSValues.Unwrap(inputData);
        if (value is not null && AlsoTakes.Any(type => type.IsInstanceOfType(value))) return inputData;
        return value as Trainer ?? throw new ArgumentTransformationMetadataException(
            $"{Describe(value)} is not a trainer: pass the trainer that New-IsaacTrainer made (its first positional argument, or -Trainer, or from the pipeline).");
    }

    private static string Describe(object? value) => value switch
    {
        null => "Null",
        string text => $"'{text}'",
        _ => $"A {value.GetType().Name}",
    };
}
