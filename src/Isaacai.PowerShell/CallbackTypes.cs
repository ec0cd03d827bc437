using Isaacai.Callbacks;

namespace Isaacai.PowerShell;

/// <summary>The built-in callbacks by short name: <c>Metrics</c> for <c>MetricsCB</c>.</summary>
public static class CallbackTypes
{
    private static readonly Type[] BuiltIn = typeof(BasicTrainCB).Assembly.GetTypes()
        .Where(t => t.Namespace == typeof(BasicTrainCB).Namespace && typeof(Callback).IsAssignableFrom(t) && t.IsPublic && !t.IsAbstract)
        .ToArray();

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

    public static Type Resolve(string name) => BuiltIn.FirstOrDefault(t =>
            string.Equals(ShortName(t), name, StringComparison.OrdinalIgnoreCase)
            || string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase)
            || string.Equals(t.Name, name + "CB", StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"'{name}' is not a built-in callback. Valid callbacks: {string.Join(", ", ShortNames.Order())}.");
}
