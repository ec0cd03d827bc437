namespace Isaacai.Sweeps;

/// <summary>
/// SplitMix64: a small generator whose sequence is fixed by its seed on every platform and .NET version
/// (System.Random's seeded sequence is not promised to stay the same), so a sweep's seed names its trials.
/// </summary>
public sealed class SweepRandom(ulong seed)
{
    private ulong _state = seed;

    /// <summary>The generator of one trial: its draws depend on the sweep's seed and the trial's number only.</summary>
    public static SweepRandom ForTrial(int sweepSeed, int trial) =>
        new(new SweepRandom(unchecked((ulong)sweepSeed * 0x9E3779B97F4A7C15UL ^ (ulong)trial)).NextUInt64());

    public ulong NextUInt64()
    {
        ulong z = unchecked(_state += 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1), 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, <paramref name="count"/>); the modulo's bias is below 2^-32 for counts up to 2^31.</summary>
    public int NextInt(int count) => count > 0 ? (int)(NextUInt64() % (ulong)count)
        : throw new ArgumentOutOfRangeException(nameof(count), count, "The count must be at least 1.");

    /// <summary>A non-negative seed for torch (0 … 2^31-1), as Set-IsaacSeed takes.</summary>
    public int NextSeed() => (int)(NextUInt64() >> 33);
}
