namespace Isaacai.Callbacks;

/// <summary>Whether a monitored value improves by going down (a loss) or up (an accuracy).</summary>
public enum MonitorMode { Auto, Min, Max }

/// <summary>
/// One key of the epoch record (<c>valid_loss</c>, <c>Accuracy</c>...) watched across epochs, for the
/// callbacks that act when it improves or stops improving. Reads the record the current epoch made, so
/// those callbacks must run after MetricsCB (order 0) at after_epoch: their default order is 10.
/// </summary>
public sealed class MonitoredValue
{
    private static readonly string[] Decreasing = ["loss", "error", "rmse", "mae", "mse"];
    private static readonly string[] Increasing = ["accuracy", "acc", "f1", "auc", "precision", "recall", "r2"];

    public MonitoredValue(string key, MonitorMode mode = MonitorMode.Auto, double minDelta = 0)
    {
        Key = string.IsNullOrWhiteSpace(key) ? throw new ArgumentException("Name the record key to monitor, such as valid_loss or Accuracy.", nameof(key)) : key;
        if (!(minDelta >= 0 && double.IsFinite(minDelta))) throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, "MinDelta must be a finite number, 0 or more.");
        Mode = mode == MonitorMode.Auto ? Infer(key) : mode;
        MinDelta = minDelta;
    }

    public string Key { get; }
    public MonitorMode Mode { get; }
    public double MinDelta { get; }

    /// <summary>Whether <paramref name="value"/> beats <paramref name="best"/> by more than MinDelta; anything beats NaN.</summary>
    public bool Improves(double value, double best) => !double.IsNaN(value)
        && (double.IsNaN(best) || (Mode == MonitorMode.Min ? value < best - MinDelta : value > best + MinDelta));

    /// <summary>
    /// The monitored value of the epoch that is ending, or null in a phase that makes no record (the train
    /// phase of an epoch that also validates).
    /// </summary>
    public double? Read(Trainer trainer)
    {
        if (!trainer.LastPhaseOfEpoch) return null;
        var record = CurrentRecord(trainer) ?? throw new InvalidOperationException(
            $"No record of epoch {trainer.Epoch} to read '{Key}' from: the trainer needs a MetricsCB (or TrackingCB) that runs before this callback at after_epoch (a lower order, and no -Before it).");
        var key = record.Keys.FirstOrDefault(k => string.Equals(k, Key, StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidOperationException($"The epoch record has no '{Key}' to monitor; its keys are: {string.Join(", ", record.Keys.Where(k => k is not ("epoch" or "elapsed")))}.");
        var value = record[key];
        return value switch
        {
            double d => d,
            null => throw new InvalidOperationException($"'{Key}' has no value in epoch {trainer.Epoch}: that phase did not run in this fit."),
            _ => Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    /// <summary>
    /// The record the running epoch made: MetricsCB's if the trainer has one, else TrackingCB's; null if that
    /// callback has not made it yet (it runs later at after_epoch, or its phase did not run).
    /// </summary>
    public static EpochRecord? CurrentRecord(Trainer trainer)
    {
        IReadOnlyList<EpochRecord>? records = trainer.Callbacks.OfType<MetricsCB>().FirstOrDefault()?.Records
            ?? trainer.Callbacks.OfType<TrackingCB>().FirstOrDefault()?.Epochs;
        return records is { Count: > 0 } && records[^1].Epoch == trainer.Epoch ? records[^1] : null;
    }

    private static MonitorMode Infer(string key)
    {
        var folded = key.ToLowerInvariant();
        if (Decreasing.Any(folded.Contains)) return MonitorMode.Min;
        if (Increasing.Any(folded.Contains)) return MonitorMode.Max;
        throw new ArgumentException($"Cannot tell whether '{key}' should go down or up; say so with Mode Min or Max.", nameof(key));
    }

    public override string ToString() => $"{Key} ({Mode.ToString().ToLowerInvariant()})";
}
