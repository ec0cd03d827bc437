using Isaacai.Callbacks;

namespace Isaacai.Sweeps;

/// <summary>
/// Optuna's median pruner: at an epoch past <see cref="WarmupEpochs"/>, a trial whose best value so far is worse
/// than the median of the completed trials' values at that same epoch is stopped, once at least
/// <see cref="StartupTrials"/> completed trials reached that epoch.
/// </summary>
public sealed class MedianPruner
{
    public MedianPruner(int startupTrials = 2, int warmupEpochs = 1)
    {
        StartupTrials = startupTrials >= 1 ? startupTrials : throw new ArgumentOutOfRangeException(nameof(startupTrials), startupTrials, "The median pruner needs at least 1 completed trial to compare with.");
        WarmupEpochs = warmupEpochs >= 0 ? warmupEpochs : throw new ArgumentOutOfRangeException(nameof(warmupEpochs), warmupEpochs, "Warm-up epochs must be 0 or more.");
    }

    public int StartupTrials { get; }
    public int WarmupEpochs { get; }

    /// <summary>
    /// Whether a trial with monitored values <paramref name="values"/> (epoch 0 to the one just ended) should stop,
    /// against the curves of completed trials (<paramref name="completed"/>). A NaN is never better than a median.
    /// </summary>
    public bool ShouldPrune(IReadOnlyList<double> values, IEnumerable<IReadOnlyList<double>> completed, MonitorMode mode)
    {
        int epoch = values.Count - 1;
        if (epoch < WarmupEpochs) return false;
        var peers = completed.Where(c => c.Count > epoch && double.IsFinite(c[epoch])).Select(c => c[epoch]).Order().ToArray();
        if (peers.Length < StartupTrials) return false;
        double median = peers.Length % 2 == 1 ? peers[peers.Length / 2] : (peers[peers.Length / 2 - 1] + peers[peers.Length / 2]) / 2;
        double best = TrialResult.BestOf(values, mode);
        return double.IsNaN(best) || (mode == MonitorMode.Min ? best > median : best < median);
    }

    public override string ToString() => $"median(startup {StartupTrials}, warmup {WarmupEpochs})";
}
