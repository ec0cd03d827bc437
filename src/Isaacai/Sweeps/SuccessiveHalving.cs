using Isaacai.Callbacks;

namespace Isaacai.Sweeps;

/// <summary>
/// Successive halving (the synchronous form of ASHA): every trial trains <see cref="MinEpochs"/> epochs, the best
/// 1/<see cref="ReductionFactor"/> of them go on to ReductionFactor times as many epochs, and so on up to the
/// sweep's epochs; the others are pruned at the rung they reached. A trial that goes on resumes from its
/// checkpoint rather than starting again.
/// </summary>
public sealed class SuccessiveHalving
{
    public SuccessiveHalving(int minEpochs = 1, int reductionFactor = 2)
    {
        MinEpochs = minEpochs >= 1 ? minEpochs : throw new ArgumentOutOfRangeException(nameof(minEpochs), minEpochs, "The first rung needs at least 1 epoch.");
        ReductionFactor = reductionFactor >= 2 ? reductionFactor : throw new ArgumentOutOfRangeException(nameof(reductionFactor), reductionFactor, "The reduction factor must be 2 or more.");
    }

    public int MinEpochs { get; }
    public int ReductionFactor { get; }

    /// <summary>The epochs each rung trains up to: MinEpochs × ReductionFactor^k below <paramref name="epochs"/>, then <paramref name="epochs"/>.</summary>
    public IReadOnlyList<int> Rungs(int epochs)
    {
        if (epochs < 1) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "A sweep trains at least 1 epoch.");
        var rungs = new List<int>();
        for (long e = MinEpochs; e < epochs; e *= ReductionFactor) rungs.Add((int)e);
        rungs.Add(epochs);
        return rungs;
    }

    /// <summary>
    /// The trials that go on from a rung: the best ⌊n / ReductionFactor⌋, at least 1, by their value at the rung
    /// (their best so far); a trial with no finite value never goes on, ties go to the lower number.
    /// </summary>
    public IReadOnlyList<int> Promote(IEnumerable<(int Trial, double Value)> rung, MonitorMode mode)
    {
        var all = rung.ToArray();
        var ranked = all.Where(r => double.IsFinite(r.Value))
            .OrderBy(r => mode == MonitorMode.Min ? r.Value : -r.Value).ThenBy(r => r.Trial).ToArray();
        int keep = Math.Max(1, all.Length / ReductionFactor);
        return ranked.Take(keep).Select(r => r.Trial).ToArray();
    }

    public override string ToString() => $"successive halving(min epochs {MinEpochs}, factor {ReductionFactor})";
}
