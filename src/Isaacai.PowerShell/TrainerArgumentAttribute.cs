using System.Management.Automation;

namespace Isaacai.PowerShell;

/// <summary>
/// Says plainly when a -Trainer argument is not a trainer. Without it, a wrong first positional argument
/// (<c>Add-IsaacCallback 'text' after_batch {}</c>) reads "A positional parameter cannot be found".
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class TrainerArgumentAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData) =>
        PSValues.Unwrap(inputData) as Trainer ?? throw new ArgumentTransformationMetadataException(
            $"{Describe(PSValues.Unwrap(inputData))} is not a trainer: pass the trainer that New-IsaacTrainer made (its first positional argument, or -Trainer, or from the pipeline).");

    private static string Describe(object? value) => value switch
    {
        null => "Null",
        string text => $"'{text}'",
        _ => $"A {value.GetType().Name}",
    };
}
