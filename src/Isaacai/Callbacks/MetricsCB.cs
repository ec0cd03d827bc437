using System.Diagnostics;
using Isaacai.Metrics;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace Isaacai.Callbacks;

/// <summary>
/// Tracks train and valid loss (weighted by batch size) and named metrics; at after_epoch it makes one
/// <see cref="EpochRecord"/>, and at cleanup_epoch logs it and reports it to the trainer's reporter. Metrics are computed on the
/// valid batches, or on the train batches in a fit without validation.
/// </summary>
public class MetricsCB : Callback
{
    private readonly List<EpochRecord> _records = [];
    private readonly Stopwatch _clock = new();
    private double _lossSum, _trainLoss;
    private long _samples;
    private bool _hasTrainLoss;
    private EpochRecord? _unreported;

    public MetricsCB(IEnumerable<KeyValuePair<string, IMetric>> metrics)
    {
        Metrics = metrics.ToDictionary();
    }

    /// <summary>One metric per name, e.g. <c>new MetricsCB(("Accuracy", new MulticlassAccuracy()))</c>.</summary>
    public MetricsCB(params (string Name, IMetric Metric)[] metrics)
        : this(metrics.Select(m => KeyValuePair.Create(m.Name, m.Metric))) { }

    public IReadOnlyDictionary<string, IMetric> Metrics { get; }

    /// <summary>The records of the current (or last) fit.</summary>
    public IReadOnlyList<EpochRecord> Records => _records;

    public override void BeforeFit(Trainer trainer)
    {
        _records.Clear();
        if (trainer.Dls.Target is { Task: Data.TaskKind.Regression } target)
            foreach (var metric in Metrics.Values.OfType<IMetricInTargetUnits>()) metric.Scale = target.Std;
    }

    public override void BeforeEpoch(Trainer trainer)
    {
        if (trainer.FirstPhaseOfEpoch) { _clock.Restart(); _hasTrainLoss = false; }
        _lossSum = 0;
        _samples = 0;
        if (trainer.LastPhaseOfEpoch) // metrics are measured in the phase that makes the record
            foreach (var metric in Metrics.Values) metric.Reset();
    }

    public override void AfterBatch(Trainer trainer)
    {
        var batch = trainer.Batch!;
        long size = batch.Size;
        _lossSum += trainer.Loss!.ToDouble() * size;
        _samples += size;
        if (trainer.LastPhaseOfEpoch)
            foreach (var metric in Metrics.Values) metric.Update(trainer.Preds!, batch.Y);
    }

    public override void AfterEpoch(Trainer trainer)
    {
        double meanLoss = _samples == 0 ? double.NaN : _lossSum / _samples;
        if (trainer.Training) { _trainLoss = meanLoss; _hasTrainLoss = true; }
        if (!trainer.LastPhaseOfEpoch) return;

        var record = new EpochRecord(
            Metrics.Select(m => KeyValuePair.Create(m.Key, m.Value.Compute())),
            _hasTrainLoss ? _trainLoss : null,
            trainer.Training ? null : meanLoss,
            trainer.Epoch,
            _clock.Elapsed);
        _records.Add(record);
        _unreported = record;
    }

    /// <summary>
    /// The record goes out once every after_epoch callback has run (logs, checkpoints, early stopping),
    /// so whoever receives it, a pipeline that stops after it say, sees an epoch that is fully done.
    /// </summary>
    public override void CleanupEpoch(Trainer trainer)
    {
        if (_unreported is not { } record) return;
        _unreported = null;
        trainer.Logger.LogInformation("{Record}", record.ToString()); // as a string: a dictionary would be logged as a list
        trainer.Reporter.EpochCompleted(record);
    }
}
