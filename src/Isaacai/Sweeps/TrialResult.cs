using Isaacai.Callbacks;

namespace Isaacai.Sweeps;

/// <summary>How a trial ended.</summary>
public enum TrialState { Completed, Pruned, Failed }

/// <summary>
/// One ended trial: its parameters and seed, the monitored value of each epoch it trained, how it ended and
/// where it ran. <see cref="Value"/> is its best monitored value, at <see cref="BestEpoch"/>.
/// </summary>
public sealed record TrialResult(
    int Number, int Seed, IReadOnlyDictionary<string, object> Parameters, TrialState State,
    IReadOnlyList<double> Values, MonitorMode Mode, string? Error, TimeSpan Duration, string Host)
{
    /// <summary>The best finite monitored value, or null when no epoch gave one.</summary>
    public double? Value => BestEpoch is { } epoch ? Values[epoch] : null;

    /// <summary>The epoch (from 0) of the best finite value; the first of equal ones.</summary>
    public int? BestEpoch
    {
        get
        {
            int? best = null;
            for (int i = 0; i < Values.Count; i++)
                if (double.IsFinite(Values[i]) && (best is not { } b || (Mode == MonitorMode.Min ? Values[i] < Values[b] : Values[i] > Values[b]))) best = i;
            return best;
        }
    }

    /// <summary>The best finite value of <paramref name="values"/> in <paramref name="mode"/>, or NaN when none is finite.</summary>
    public static double BestOf(IEnumerable<double> values, MonitorMode mode)
    {
        var finite = values.Where(double.IsFinite).ToArray();
        return finite.Length == 0 ? double.NaN : mode == MonitorMode.Min ? finite.Min() : finite.Max();
    }

    /// <summary>Whether this trial's value beats <paramref name="other"/>'s; a trial with no value beats none.</summary>
    public bool Beats(TrialResult? other) => Value is { } v && (other?.Value is not { } o || (Mode == MonitorMode.Min ? v < o : v > o));

    /// <summary>The best of <paramref name="results"/> that completed or were pruned, the lowest number among equals; null if none has a value.</summary>
    public static TrialResult? Best(IEnumerable<TrialResult> results) =>
        results.Where(r => r.Value is not null && r.State != TrialState.Failed).OrderBy(r => r.Number)
            .Aggregate((TrialResult?)null, (best, r) => r.Beats(best) ? r : best);
}
