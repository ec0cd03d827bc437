using System.Diagnostics;
using System.Management.Automation;
using Microsoft.Extensions.Logging;

namespace Isaacai.PowerShell;

/// <summary>
/// Tells a running cmdlet what the engine reports: each epoch record as a pipeline object the moment the
/// epoch ends, progress as nested Write-Progress (fit, epoch, batch), log messages as Verbose,
/// Information, Warning and Error records. Lives only for one cmdlet call, on its pipeline thread.
/// </summary>
internal sealed class PipelineReporter(Cmdlet cmdlet) : ITrainingReporter, ILogger
{
    private const int FitId = 1, EpochId = 2, BatchId = 3;
    private static readonly TimeSpan BatchProgressInterval = TimeSpan.FromMilliseconds(200);
    private readonly Stopwatch _sinceBatchProgress = Stopwatch.StartNew();
    private string _fitStatus = "";

    /// <summary>Whether the pipeline is stopping (Ctrl+C, or a downstream command wants no more).</summary>
    public bool Stopping => cmdlet.Stopping;

    // Once the pipeline is stopping nothing written can arrive anywhere; writing would only throw. A stop
    // that a write does raise (Select-Object -First) must reach PowerShell unchanged: the engine passes it
    // through its cleanup hooks like any other exception.
    public void EpochCompleted(EpochRecord record)
    {
        if (!cmdlet.Stopping) cmdlet.WriteObject(EpochRecordObject.From(record));
    }

    public void Progress(TrainingProgress progress)
    {
        if (cmdlet.Stopping) return;
        switch (progress.Level)
        {
            case LoopLevel.Fit when progress.Completed >= progress.Total:
                foreach (var (id, activity) in new[] { (BatchId, "Batches"), (EpochId, "Epoch"), (FitId, "Fitting") })
                    cmdlet.WriteProgress(new ProgressRecord(id, activity, "Done") { RecordType = ProgressRecordType.Completed });
                break;
            case LoopLevel.Fit:
                _fitStatus = progress.Activity;
                cmdlet.WriteProgress(new ProgressRecord(FitId, "Fitting", progress.Activity) { PercentComplete = Percent(progress) });
                break;
            case LoopLevel.Epoch:
                cmdlet.WriteProgress(new ProgressRecord(EpochId, _fitStatus, progress.Activity) { ParentActivityId = FitId, PercentComplete = Percent(progress) });
                break;
            case LoopLevel.Batch:
                // Rendering progress for every batch would cost more than the batch; the host shows a few a second at most.
                if (_sinceBatchProgress.Elapsed < BatchProgressInterval && progress.Completed < progress.Total) return;
                _sinceBatchProgress.Restart();
                cmdlet.WriteProgress(new ProgressRecord(BatchId, "Batches", $"{progress.Activity} batch {progress.Completed} of {progress.Total}")
                    { ParentActivityId = EpochId, PercentComplete = Percent(progress) });
                break;
        }
    }

    private static int Percent(TrainingProgress p) => p.Total <= 0 ? 0 : Math.Clamp(100 * p.Completed / p.Total, 0, 100);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (cmdlet.Stopping) return;
        var message = formatter(state, exception);
        if (logLevel >= LogLevel.Error)
            cmdlet.WriteError((exception as IContainsErrorRecord)?.ErrorRecord ?? new ErrorRecord(exception ?? new InvalidOperationException(message), "IsaacaiError", ErrorCategory.NotSpecified, null));
        else if (logLevel == LogLevel.Warning) cmdlet.WriteWarning(message);
        else if (logLevel == LogLevel.Information) cmdlet.WriteInformation(message, ["Isaacai"]);
        else cmdlet.WriteVerbose(message);
    }

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
}

/// <summary>
/// An epoch record as a flat pipeline object with the seed's keys, for tables and Export-Csv: epoch first (a
/// CSV file's first column), then train_loss, valid_loss, the metrics, and elapsed in seconds as a number
/// (a TimeSpan would be written as text such as 00:00:00.0312150).
/// </summary>
public static class EpochRecordObject
{
    public const string TypeName = "Isaacai.EpochRecord";

    public static PSObject From(EpochRecord record)
    {
        var result = new PSObject();
        result.TypeNames.Insert(0, TypeName);
        result.Properties.Add(new PSNoteProperty("epoch", record.Epoch));
        result.Properties.Add(new PSNoteProperty("train_loss", record.TrainLoss));
        result.Properties.Add(new PSNoteProperty("valid_loss", record.ValidLoss));
        foreach (var (name, value) in record.Metrics) result.Properties.Add(new PSNoteProperty(name, value));
        result.Properties.Add(new PSNoteProperty("elapsed", record.Elapsed.TotalSeconds));
        return result;
    }
}
