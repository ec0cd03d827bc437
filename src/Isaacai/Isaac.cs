using Isaacai.Data;
using static TorchSharp.torch;

namespace Isaacai;

/// <summary>The seed's free functions: <c>set_seed</c> and <c>sample_dataset_dict</c>.</summary>
public static class Isaac
{
    /// <summary>Seeds torch's generators, so model initialisation and shuffling repeat exactly.</summary>
    public static void SetSeed(long seed)
    {
        manual_seed(seed);
        if (cuda.is_available()) cuda.manual_seed_all(seed);
    }

    /// <summary>Keeps a random <paramref name="fraction"/> (0 to 1] of each split.</summary>
    public static DatasetDict SampleDatasetDict(DatasetDict dd, double fraction, long seed)
    {
        if (!(fraction > 0 && fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The fraction must be greater than 0 and at most 1.");
        return Sample(dd, split => Math.Max(1, (long)Math.Round(split.Count * fraction)), seed);
    }

    /// <summary>Keeps <paramref name="count"/> random samples of each split (all of a smaller split).</summary>
    public static DatasetDict SampleDatasetDict(DatasetDict dd, int count, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return Sample(dd, split => Math.Min(count, split.Count), seed);
    }

    private static DatasetDict Sample(DatasetDict dd, Func<IDataset, long> size, long seed)
    {
        ArgumentNullException.ThrowIfNull(dd);
        using var generator = new Generator((ulong)seed);
        var sampled = new DatasetDict { Target = dd.Target }.WithProcessor(dd.Processor);
        foreach (var (name, split) in dd)
        {
            using var permutation = randperm(split.Count, generator: generator);
            using var chosen = permutation.narrow(0, 0, size(split));
            sampled[name] = split.Select(chosen);
        }
        return sampled;
    }
}
