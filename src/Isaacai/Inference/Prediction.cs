namespace Isaacai.Inference;

/// <summary>
/// One sample's prediction. <see cref="Value"/> is a class name (classification), a number in the target's
/// own units (regression), or, for a model whose target is unknown, its raw outputs.
/// </summary>
public sealed record Prediction(object Value, int? ClassIndex = null, double? Probability = null, IReadOnlyDictionary<string, double>? Probabilities = null)
{
    public override string ToString() => Probability is { } p ? $"{Value} ({p:P1})" : Value is double[] raw ? $"[{string.Join(", ", raw)}]" : $"{Value}";
}

/// <summary>One image file's prediction, or why the file could not be read.</summary>
public sealed record ImageFilePrediction(string Path, Prediction? Prediction, Data.Images.ImageFileException? Error);
