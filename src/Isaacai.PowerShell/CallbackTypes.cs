using System.Reflection;
using Isaacai.Callbacks;

namespace Isaacai.PowerShell;

/// <summary>The built-in callbacks by short name: <c>Metrics</c> for <c>MetricsCB</c>.</summary>
public static class CallbackTypes
{
    private static readonly Type[] BuiltIn = typeof(BasicTrainCB).Assembly.GetTypes()
        .Where(t => t.Namespace == typeof(BasicTrainCB).Namespace && typeof(Callback).IsAssignableFrom(t) && t.IsPublic && !t.IsAbstract)
        .ToArray();

    /// <summary>Callbacks users look for that cannot be offered, with the reason.</summary>
    private static readonly Dictionary<string, string> Unavailable = new(StringComparer.OrdinalIgnoreCase)
    {
        ["MixedPrecision"] = "Mixed-precision training is not available: TorchSharp (0.107) has neither autocast nor a gradient scaler (GradScaler), "
            + "so a MixedPrecision callback could only pretend. Models train in float32; on a CUDA machine, DeviceCB moves them to the GPU.",
    };

    public static IEnumerable<string> ShortNames => BuiltIn.Select(ShortName);

    /// <summary>
    /// The name without "CB"; a variant of the basic training step also without "Train" (Momentum for
    /// MomentumTrainCB), as the seed's callbacks are spoken of.
    /// </summary>
    public static string ShortName(Type type)
    {
        var name = type.Name.EndsWith("CB", StringComparison.Ordinal) ? type.Name[..^2] : type.Name;
        bool trainingVariant = type.IsSubclassOf(typeof(BasicTrainCB)) && name.EndsWith("Train", StringComparison.Ordinal);
        return trainingVariant ? name[..^"Train".Length] : name;
    }

    public static Type Resolve(string name) => TryResolve(name, out var type) ? type
        : Unavailable.TryGetValue(name.EndsWith("CB", StringComparison.OrdinalIgnoreCase) ? name[..^2] : name, out var reason) ? throw new NotSupportedException(reason)
        : throw new ArgumentException($"'{name}' is not a built-in callback. Valid callbacks: {string.Join(", ", ShortNames.Order())}.");

    public static bool TryResolve(string? name, out Type type)
    {
        type = BuiltIn.FirstOrDefault(t =>
            string.Equals(ShortName(t), name, StringComparison.OrdinalIgnoreCase)
            || string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase)
            || string.Equals(t.Name, name + "CB", StringComparison.OrdinalIgnoreCase))!;
        return type is not null;
    }

    /// <summary>The public constructor a command line can call: the widest whose parameters all bind.</summary>
    public static ConstructorInfo? SettingsConstructor(Type type) => type.GetConstructors()
        .Where(c => c.GetParameters().All(ConstructorParameters.CanBind))
        .OrderByDescending(c => c.GetParameters().Length)
        .FirstOrDefault();
}
