namespace Isaacai.Data.Tabular;

/// <summary>What to do with a missing value (null, blank, NA): fail, leave the row out, or fill it in.</summary>
public enum MissingValuePolicy
{
    /// <summary>One error naming the first row and column with a missing value, and how many rows have one.</summary>
    Error,
    /// <summary>Leave out every row with a missing value.</summary>
    Drop,
    /// <summary>Fill a number with the train split's mean, a category with its most frequent value.</summary>
    Mean,
    /// <summary>Fill any column with the train split's most frequent value.</summary>
    Mode,
}

/// <summary>How a table becomes a dataset: which column to predict, from which columns, and how to split it.</summary>
public sealed record TabularOptions
{
    public TabularOptions(string target) => Target = target;

    /// <summary>The column to predict.</summary>
    public string Target { get; init; }

    /// <summary>The columns to predict from; every other column when null.</summary>
    public IReadOnlyList<string>? Features { get; init; }

    /// <summary>
    /// Feature columns to read as categories even when their values are numbers (codes, years, IDs). In such a
    /// column, a value that is not a number is a warning; in any other column of numbers, it is an error.
    /// </summary>
    public IReadOnlyList<string>? Categories { get; init; }

    /// <summary>The share of rows held out for validation, stratified by class for classification.</summary>
    public double ValidFraction { get; init; } = 0.2;

    /// <summary>Seeds the split, so the same table always splits the same way.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Classification or regression; inferred from the target when null (see <see cref="TabularDatasets.InferTask"/>).</summary>
    public TaskKind? Task { get; init; }

    public MissingValuePolicy MissingValue { get; init; } = MissingValuePolicy.Error;
}
