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

/// <summary>How a category column reaches the model.</summary>
public enum CategoryEncoding
{
    /// <summary>One input per category, 1 for the row's own and 0 for the others: any model takes it.</summary>
    OneHot,
    /// <summary>
    /// One input holding the category's index, which the model looks up in a learnt embedding (fastai's entity
    /// embeddings): a model built for it (<see cref="Models.EmbeddingMlp"/>) is needed.
    /// </summary>
    Embedding,
    /// <summary>One-hot up to <see cref="TabularOptions.AutoOneHotLevels"/> categories, an embedding above.</summary>
    Auto,
}

/// <summary>What a category that training never saw becomes at prediction.</summary>
public enum UnknownCategoryPolicy
{
    /// <summary>An error naming the row, the column, the value and the known categories.</summary>
    Error,
    /// <summary>
    /// fastai's <c>#na#</c>: an embedding's reserved row 0, or an all-zero one-hot block (none of the known categories).
    /// </summary>
    Slot,
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

    /// <summary>
    /// One-hot by default, so that every model (an MLP sized by hand, a model of your own) takes the inputs as
    /// before; Embedding or Auto need a model that looks categories up, as <see cref="Models.EmbeddingMlp"/> does.
    /// </summary>
    public CategoryEncoding CategoryEncoding { get; init; } = CategoryEncoding.OneHot;

    /// <summary>Under <see cref="CategoryEncoding.Auto"/>, columns of at most this many categories are one-hot.</summary>
    public const int AutoOneHotLevels = 10;

    public UnknownCategoryPolicy UnknownCategory { get; init; } = UnknownCategoryPolicy.Error;

    /// <summary>
    /// With no <see cref="Features"/> named, a text column whose distinct values are more than this share of its
    /// rows (and more than <see cref="TabularDatasets.IdLikeMinDistinct"/>) looks like an ID or a free text: it is
    /// left out with a warning. Naming it in <see cref="Features"/> or <see cref="Categories"/> keeps it.
    /// </summary>
    public double IdLikeShare { get; init; } = 0.5;
}
