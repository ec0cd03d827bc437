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
    [JsonConstructor]
    public TargetSpec(string name, TaskKind task, IReadOnlyList<string>? classes = null, double mean = 0, double std = 1)
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
    }

    public static TargetSpec Classification(string name, IReadOnlyList<string> classes) => new(name, TaskKind.Classification, classes);

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

    /// <summary>How many outputs a model for this target has: one per class, or one number.</summary>
    [JsonIgnore]
    public int OutputSize => Task == TaskKind.Classification ? Classes.Count : 1;

    public bool Equals(TargetSpec? other) => other is not null && Name == other.Name && Task == other.Task
        && Classes.SequenceEqual(other.Classes) && Mean.Equals(other.Mean) && Std.Equals(other.Std);

    public override int GetHashCode() => HashCode.Combine(Name, Task, Classes.Count, Mean, Std);

    public override string ToString() => Task == TaskKind.Classification
        ? $"{Name}: {Classes.Count} classes ({string.Join(", ", Classes.Take(5))}{(Classes.Count > 5 ? ", …" : "")})"
        : $"{Name}: a number (mean {Mean:G4}, std {Std:G4})";
}
