using Isaacai.Data;

namespace Isaacai.PowerShell;

/// <summary>The model sizes a dataset implies, for commands that build models from one.</summary>
internal static class DatasetShapes
{
    private static IDataset Train(DatasetDict dataset) => dataset.TryGetValue("train", out var train) ? train
        : throw new ArgumentException($"The dataset has no 'train' split to size a model from; its splits are: {string.Join(", ", dataset.Keys)}.");

    /// <summary>One sample's input shape: <c>[C, H, W]</c> for images, <c>[features]</c> for a table.</summary>
    public static long[] InputShape(DatasetDict dataset) => Train(dataset).InputShape;

    /// <summary>Inputs per sample: everything after the sample dimension, flattened.</summary>
    public static int FlatInputSize(DatasetDict dataset) => (int)Train(dataset).InputShape.Aggregate(1L, (a, b) => a * b);

    /// <summary>The channels of image inputs [N, C, H, W].</summary>
    public static int Channels(DatasetDict dataset)
    {
        var shape = Train(dataset).InputShape;
        return shape.Length == 3 ? (int)shape[0]
            : throw new ArgumentException($"The dataset's inputs are [N, {string.Join(", ", shape)}], not images [N, C, H, W].");
    }

    public static int OutputSize(DatasetDict dataset) => dataset.Target?.OutputSize
        ?? throw new ArgumentException("The dataset does not say what its targets are, so the output size is unknown: give -OutputSize.");

    /// <summary>The value of an int parameter if the user gave it, else null.</summary>
    public static int? Bound(System.Management.Automation.InvocationInfo invocation, string parameter, int value) =>
        invocation.BoundParameters.ContainsKey(parameter) ? value : null;

    /// <summary>The size the user gave, which must agree with the dataset's if both are known; else the dataset's.</summary>
    public static int Resolve(string parameter, int? given, DatasetDict? dataset, Func<DatasetDict, int> fromDataset)
    {
        if (dataset is null)
            return given ?? throw new ArgumentException($"Give -{parameter}, or a dataset (-Dataset, or piped in) to take it from.");
        int implied = fromDataset(dataset);
        if (given is { } value && value != implied)
            throw new ArgumentException($"-{parameter} {value} does not match the dataset, which implies {implied}.");
        return implied;
    }
}
