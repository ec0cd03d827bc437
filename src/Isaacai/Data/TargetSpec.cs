using System.Globalization;
using System.Text.Json.Serialization;

namespace Isaacai.Data;

/// <summary>What a model learns to predict: classes, or a number.</summary>
public enum TaskKind { Classification, Regression }

/// <summary>
/// What a dataset's targets are, so that a trainer can pick its loss and metrics and a prediction can be
/// given back as a class name or a number in the target's own units. Travels with the dataset, its
/// loaders and a saved model.
/// </summary>
public sealed record TargetSpec
{
    /// <summary>The whole-number types that class labels may have, by name, to give predictions back as such.</summary>
    private static readonly IReadOnlyDictionary<string, Type> LabelTypes = new[]
    {
        typeof(long), typeof(int), typeof(short), typeof(sbyte), typeof(byte), typeof(ulong), typeof(uint), typeof(ushort),
    }.ToDictionary(t => t.FullName!, StringComparer.Ordinal);

    [JsonConstructor]
    public TargetSpec(string name, TaskKind task, IReadOnlyList<string>? classes = null, double mean = 0, double std = 1, string? labelType = null)
    {
        Name = name ?? throw new ArgumentNullException(nameof(name));
        Task = task;
        Classes = classes ?? [];
        if (task == TaskKind.Classification && Classes.Count < 2)
            throw new ArgumentException($"A classification target needs at least two classes; '{name}' has {Classes.Count}.", nameof(classes));
        if (task == TaskKind.Regression && Classes.Count > 0)
            throw new ArgumentException($"A regression target has no classes; '{name}' was given {Classes.Count}.", nameof(classes));
        if (!(double.IsFinite(mean) && double.IsFinite(std) && std > 0))
            throw new ArgumentException($"Target '{name}' needs a finite mean and a positive finite std; got {mean} and {std}.");
        Mean = mean;
        Std = std;
        _labels = [.. Classes];
        if (labelType is not null)
        {
            if (task != TaskKind.Classification || !LabelTypes.TryGetValue(labelType, out var type))
                throw new ArgumentException($"Target '{name}': class labels may be whole numbers ({string.Join(", ", LabelTypes.Keys)}), for classification only; got {labelType} for {task}.", nameof(labelType));
            for (int i = 0; i < _labels.Length; i++)
                try { _labels[i] = Convert.ChangeType(Classes[i], type, CultureInfo.InvariantCulture); }
                catch (Exception e) when (e is FormatException or OverflowException)
                {
                    throw new ArgumentException($"Target '{name}': the class '{Classes[i]}' is not a {type.Name}, the type of its labels.", nameof(labelType), e);
                }
            LabelType = labelType;
        }
    }

    /// <summary>Each class's label, converted once: a prediction per row shares them (a boxed number is never changed).</summary>
    private readonly object[] _labels;

    /// <summary>Classes by name; <paramref name="labelType"/>, a whole-number type, gives predictions back as such numbers (5, not "5").</summary>
    public static TargetSpec Classification(string name, IReadOnlyList<string> classes, Type? labelType = null) =>
        new(name, TaskKind.Classification, classes, labelType: labelType?.FullName);

    /// <summary>A numeric target, learnt as <c>(y − mean) / std</c> and predicted back in its own units.</summary>
    public static TargetSpec Regression(string name, double mean = 0, double std = 1) => new(name, TaskKind.Regression, null, mean, std);

    /// <summary>The target's column or field name.</summary>
    public string Name { get; }
    public TaskKind Task { get; }

    /// <summary>Class names by index (classification only).</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>The standardisation of a regression target: the model learns <c>(y − Mean) / Std</c>.</summary>
    public double Mean { get; }
    public double Std { get; }

    /// <summary>
    /// The .NET type of the class labels as they came in, when they were whole numbers (System.Int64 from JSON, say);
    /// null for text. A model file from before it was kept has none, and gives class names.
    /// </summary>
    public string? LabelType { get; }

    /// <summary>Class <paramref name="index"/> as its label came in: a whole number of <see cref="LabelType"/>, or its name.</summary>
    public object Label(int index) => _labels[index];

    /// <summary>How many outputs a model for this target has: one per class, or one number.</summary>
    [JsonIgnore]
    public int OutputSize => Task == TaskKind.Classification ? Classes.Count : 1;

    public bool Equals(TargetSpec? other) => other is not null && Name == other.Name && Task == other.Task
        && Classes.SequenceEqual(other.Classes) && Mean.Equals(other.Mean) && Std.Equals(other.Std) && LabelType == other.LabelType;

    public override int GetHashCode() => HashCode.Combine(Name, Task, Classes.Count, Mean, Std);

    public override string ToString() => Task == TaskKind.Classification
        ? $"{Name}: {Classes.Count} classes ({string.Join(", ", Classes.Take(5))}{(Classes.Count > 5 ? ", …" : "")})"
        : $"{Name}: a number (mean {Mean:G4}, std {Std:G4})";
}
