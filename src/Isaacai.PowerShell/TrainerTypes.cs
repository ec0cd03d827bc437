using System.Management.Automation;
using System.Reflection;

namespace Isaacai.PowerShell;

/// <summary>
/// Finds Trainer subclasses by name and reads the constructor parameters they add to the Trainer's own,
/// so New-IsaacTrainer can offer them as parameters (the seed's <c>init_delegates</c>).
/// </summary>
public static class TrainerTypes
{
    private static readonly HashSet<string> BaseParameterNames = typeof(Trainer).GetConstructors()
        .SelectMany(c => c.GetParameters()).Select(p => p.Name!).ToHashSet(StringComparer.OrdinalIgnoreCase);

    // A loaded assembly's types never change, so each is scanned once; dynamic ones (PowerShell classes) every time.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Assembly, Type[]> TrainersByAssembly = new();

    /// <summary>Every concrete Trainer type in the loaded assemblies, PowerShell classes included.</summary>
    public static IEnumerable<Type> All() => AppDomain.CurrentDomain.GetAssemblies()
        .SelectMany(assembly => assembly.IsDynamic ? TrainersIn(assembly) : TrainersByAssembly.GetOrAdd(assembly, TrainersIn));

    private static Type[] TrainersIn(Assembly assembly) =>
        LoadableTypes(assembly).Where(t => typeof(Trainer).IsAssignableFrom(t) && !t.IsAbstract && t.IsPublic).ToArray();

    /// <summary>The short name users type: <c>Momentum</c> for <c>MomentumTrainer</c>.</summary>
    public static string ShortName(Type type) =>
        type.Name.EndsWith("Trainer", StringComparison.Ordinal) && type.Name.Length > "Trainer".Length ? type.Name[..^"Trainer".Length] : type.Name;

    /// <summary>By full name, name or short name, ignoring case.</summary>
    public static Type Resolve(string name)
    {
        var all = All().ToList();
        var match = all.FirstOrDefault(t => string.Equals(t.FullName, name, StringComparison.OrdinalIgnoreCase))
            ?? all.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? all.FirstOrDefault(t => string.Equals(ShortName(t), name, StringComparison.OrdinalIgnoreCase));
        return match ?? throw new ArgumentException(
            $"'{name}' is not a trainer type. Valid types: {string.Join(", ", all.Select(ShortName).Distinct().Order())}; or the full name of any loaded subclass of Isaacai.Trainer.");
    }

    /// <summary>The public constructor with the most parameters: the one that shows everything.</summary>
    public static ConstructorInfo Constructor(Type type) =>
        type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault()
            ?? throw new ArgumentException($"The trainer type '{type.FullName}' has no public constructor.");

    /// <summary>The constructor parameters a subclass adds to the Trainer's own.</summary>
    public static IEnumerable<ParameterInfo> AddedParameters(Type type) =>
        Constructor(type).GetParameters().Where(p => !BaseParameterNames.Contains(p.Name!));

    /// <summary>PowerShell parameters for <see cref="AddedParameters"/>: mandatory where they have no default.</summary>
    public static RuntimeDefinedParameterDictionary DynamicParameters(Type type, IReadOnlyCollection<string> taken) =>
        ConstructorParameters.ToDynamic(AddedParameters(type), type, taken);

    private static IEnumerable<Type> LoadableTypes(Assembly assembly)
    {
        try { return assembly.GetTypes(); }
        catch (ReflectionTypeLoadException e) { return e.Types.OfType<Type>(); }
    }
}
