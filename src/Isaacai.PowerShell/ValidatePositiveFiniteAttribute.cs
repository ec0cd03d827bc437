using System.Management.Automation;

namespace Isaacai.PowerShell;

/// <summary>
/// Accepts a positive finite number. ValidateRange(double.Epsilon, …) would say "less than the minimum
/// allowed range of 5E-324" for 0, and lets NaN through.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidatePositiveFiniteAttribute : ValidateArgumentsAttribute
{
    protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
    {
        if (PSValues.Unwrap(arguments) is double value && value > 0 && double.IsFinite(value)) return;
        throw new ValidationMetadataException($"The value must be a positive finite number; {arguments} is not.");
    }
}
