using System.Globalization;
using System.Text;
using Isaacai.Checkpoints;
using Isaacai.Schedules;
using Microsoft.Extensions.Logging;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Isaacai.Callbacks;

/// <summary>
/// Writes a fit to TensorBoard event files in <see cref="LogDir"/> with TorchSharp's own SummaryWriter: every
/// <see cref="EveryBatches"/> train batches the batch's loss (<c>loss/train_batch</c>) and learning rate
/// (<c>lr</c>); as each epoch ends its mean train and valid losses (<c>loss/train</c>, <c>loss/valid</c>), each
/// metric (<c>metrics/accuracy</c>: the record's name in lower case) and <c>epoch</c>; with
/// <see cref="Histograms"/>, a histogram of each parameter tensor (<c>parameters/&lt;name&gt;</c>); with
/// <see cref="Predictions"/>, for a classifier of images, a grid of the first <see cref="PredictionCount"/> valid
/// images under their predicted and actual classes (<c>predictions</c>, the same images every epoch); and the
/// fit's settings as text (<c>settings</c>) as it starts. The step of every value
/// is the number of train batches done so far, so a batch's loss and its epoch's losses share an axis; it goes
/// on across fits of the same callback, and a checkpoint keeps it, so a resumed fit writes on after the last
/// step instead of over it. The SummaryWriter appends each value to the file as it is added, which costs some
/// 0.1–0.2 ms (it opens and closes the file each time), hence every 10 batches by default; the file is also
/// flushed to disk as each epoch ends. Each writer (one per callback, made at its first fit) writes its own
/// file, so runs in the same folder sit side by side. Needs a MetricsCB or TrackingCB for the epoch records.
/// </summary>
public class TensorBoardCB : Callback, ICheckpointable
{
    public const int MaxPredictionCount = 64;
    private SummaryWriter? _writer;
    private string? _eventFile;
    private long _step;
    private bool _settingsWritten, _warnedOfHistogram;
    private (double File, long Bytes)? _resumeCut; // the event file and its length in the checkpoint a fit resumes from

    public TensorBoardCB(string logDir, int everyBatches = 10, bool histograms = false, bool predictions = false, int predictionCount = 16)
    {
        LogDir = string.IsNullOrWhiteSpace(logDir) ? throw new ArgumentException("Give the folder for TensorBoard's event files, such as runs/exp1.", nameof(logDir)) : Path.GetFullPath(logDir);
        EveryBatches = everyBatches >= 1 ? everyBatches : throw new ArgumentOutOfRangeException(nameof(everyBatches), everyBatches, "EveryBatches must be 1 or more: a batch's loss and learning rate are written every that many train batches.");
        if (predictionCount is < 1 or > MaxPredictionCount)
            throw new ArgumentOutOfRangeException(nameof(predictionCount), predictionCount, $"PredictionCount must be 1 to {MaxPredictionCount} images.");
        (Histograms, Predictions, PredictionCount) = (histograms, predictions, predictionCount);
        Order = 10; // after MetricsCB has made the epoch's record
    }

    /// <summary>The run's folder, as a full path: TensorBoard's <c>--logdir</c> is this folder or one above it.</summary>
    public string LogDir { get; }
    public int EveryBatches { get; }
    public bool Histograms { get; }
    public bool Predictions { get; }
    public int PredictionCount { get; }

    /// <summary>Train batches done: the step of the values written next.</summary>
    public long GlobalStep => _step;

    /// <summary>The event file this callback writes, once its first fit has begun.</summary>
    public string? EventFile => _eventFile;

    public override void BeforeFit(Trainer trainer)
    {
        if (!trainer.Callbacks.Any(c => c is MetricsCB or TrackingCB))
            throw new InvalidOperationException("TensorBoardCB writes the epoch records of a MetricsCB or TrackingCB, and this trainer has neither; add one (New-IsaacCallback Metrics).");
        if (Predictions) SamplePredictions.Check(trainer);
        _writer ??= OpenWriter();
        _settingsWritten = false;
        _warnedOfHistogram = false;
    }

    /// <summary>The settings wait for the first epoch: a resumed fit has restored its step by then.</summary>
    public override void BeforeEpoch(Trainer trainer)
    {
        if (_settingsWritten) return;
        _settingsWritten = true;
        CutBackToCheckpoint(trainer);
        var (settings, step) = (Settings(trainer), StepOf(_step));
        Write(writer => writer.add_text("settings", settings, step));
    }

    public override void AfterBatch(Trainer trainer)
    {
        if (!trainer.Training) return;
        _step++;
        if (_step % EveryBatches != 0) return;
        var (step, loss) = (StepOf(_step), (float)trainer.Loss!.ToDouble());
        float? lr = trainer.Opt is { } opt ? (float)OptimizerSettings.GetLr(opt) : null;
        Write(writer =>
        {
            writer.add_scalar("loss/train_batch", loss, step);
            if (lr is { } rate) writer.add_scalar("lr", rate, step);
        });
    }

    public override void AfterEpoch(Trainer trainer)
    {
        if (!trainer.LastPhaseOfEpoch) return;
        var record = MonitoredValue.CurrentRecord(trainer)
            ?? throw new InvalidOperationException("TensorBoardCB found no record of this epoch: the trainer needs a MetricsCB or TrackingCB, with a lower order.");
        // Without a train phase no batch moves the step: such a fit's epochs are their own axis.
        int step = StepOf(trainer.FitsTrain ? _step : record.Epoch + 1);
        Write(writer =>
        {
            if (record.TrainLoss is { } train) writer.add_scalar("loss/train", (float)train, step);
            if (record.ValidLoss is { } valid) writer.add_scalar("loss/valid", (float)valid, step);
            foreach (var (name, value) in record.Metrics) writer.add_scalar(MetricTag(name), (float)value, step);
            writer.add_scalar("epoch", record.Epoch, step);
        });
        if (Histograms) WriteHistograms(trainer, step);
        if (Predictions && SamplePredictions.Draw(trainer, PredictionCount) is { } grid)
            using (grid) Write(writer => writer.add_img(SamplePredictions.Tag, grid, step, dataformats: "HWC"));
        Write(_ => FlushToDisk());
    }

    /// <summary>
    /// Runs TorchSharp's writer on the training thread. Not on a thread of its own: tried, Adam's step then
    /// failed inside libtorch (a Scalar it read was not a float). Most likely the writing thread's allocations
    /// let the garbage collector run during a native call, and TorchSharp 0.107 frees a temporary Scalar's
    /// native value from its finalizer while the call may still use it.
    /// </summary>
    private void Write(Action<SummaryWriter> write)
    {
        try
        {
            using var scope = NewDisposeScope(); // what the writer makes from a tensor (histogram bins, images) it does not free
            write(_writer!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"TensorBoardCB could not write its event file {_eventFile ?? LogDir}: {e.Message}", e);
        }
    }

    /// <summary>The tag of a record's metric: <c>metrics/</c> and its name in lower case, as TensorBoard users write them.</summary>
    public static string MetricTag(string name) => "metrics/" + name.ToLowerInvariant();

    /// <summary>The step, and which event file this callback writes and how long it is: what was logged by then belongs to the checkpoint's epochs.</summary>
    public void SaveState(CallbackState state)
    {
        state.Values["step"] = _step;
        if (_eventFile is not null && File.Exists(_eventFile))
        {
            state.Values["file"] = FileKey(_eventFile);
            state.Values["bytes"] = new FileInfo(_eventFile).Length;
        }
    }

    /// <summary>
    /// A resumed fit goes on from the checkpoint's step; the events its file got after the checkpoint (a run killed
    /// mid-epoch, say) are cut off as the fit starts, so every step is in the run once.
    /// </summary>
    public void RestoreState(CallbackState state)
    {
        double step = state.Value("step");
        _step = step >= 0 && step == Math.Floor(step) ? (long)step
            : throw new InvalidDataException($"The checkpoint's TensorBoard step is {step}; a step is a whole number, 0 or more.");
        _resumeCut = state.Values.TryGetValue("file", out var file) && state.Values.TryGetValue("bytes", out var bytes) && bytes >= 0 ? (file, (long)bytes) : null;
    }

    /// <summary>Cuts the checkpoint's event file, if it is in this run's folder, back to its length then (whole records: the writer appends whole ones).</summary>
    private void CutBackToCheckpoint(Trainer trainer)
    {
        if (_resumeCut is not { } cut) return;
        _resumeCut = null;
        var file = Directory.GetFiles(LogDir, "events.out.tfevents.*").FirstOrDefault(f => FileKey(f) == cut.File);
        if (file is null || new FileInfo(file).Length <= cut.Bytes) return;
        using (var stream = new FileStream(file, FileMode.Open, FileAccess.Write, FileShare.Read)) stream.SetLength(cut.Bytes);
        trainer.Logger.LogInformation("{Message}", $"TensorBoardCB cut {Path.GetFileName(file)} back to the checkpoint's {cut.Bytes} bytes: the events after it are written again by this fit.");
    }

    /// <summary>An event file's name as a number a checkpoint can hold exactly: 48 bits of its SHA-256.</summary>
    private static double FileKey(string path)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFileName(path)));
        return BitConverter.ToInt64([.. hash[..6], 0, 0]);
    }

    private SummaryWriter OpenWriter()
    {
        try
        {
            var before = Directory.Exists(LogDir) ? Directory.GetFiles(LogDir).ToHashSet() : [];
            var writer = TorchSharp.torch.utils.tensorboard.SummaryWriter(LogDir);
            // The writer makes its file at once but does not say its name: the new one in the folder from this process.
            var pid = "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + ".";
            _eventFile = Directory.GetFiles(LogDir, "events.out.tfevents.*").Where(f => !before.Contains(f) && Path.GetFileName(f).Contains(pid, StringComparison.Ordinal))
                .OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault();
            return writer;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"TensorBoardCB cannot write its event file in {LogDir}: {e.Message}", e);
        }
    }

    /// <summary>The SummaryWriter hands each event to the system as it writes it; at an epoch's end it goes to the disk too.</summary>
    private void FlushToDisk()
    {
        if (_eventFile is null || !File.Exists(_eventFile)) return;
        using var file = new FileStream(_eventFile, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        file.Flush(flushToDisk: true);
    }

    /// <summary>TorchSharp's SummaryWriter takes 32-bit steps.</summary>
    private static int StepOf(long step) => step <= int.MaxValue ? (int)step
        : throw new InvalidOperationException($"TensorBoard's steps here are 32-bit; this run is past {int.MaxValue} batches.");

    private void WriteHistograms(Trainer trainer, int step)
    {
        foreach (var (name, parameter) in trainer.Model.named_parameters())
        {
            if (parameter.numel() == 0) continue;
            using var scope = NewDisposeScope();
            var detached = parameter.detach();
            if (!detached.isfinite().all().item<bool>())
            {
                // TensorBoard's histograms take finite values only.
                if (!_warnedOfHistogram)
                    trainer.Logger.LogWarning("TensorBoardCB wrote no histogram of {Parameter} at epoch {Epoch}: it holds NaN or infinite values. (Warned once per fit; other such tensors are left out too.)", name, trainer.Epoch);
                _warnedOfHistogram = true;
                continue;
            }
            Write(writer => writer.add_histogram("parameters/" + name, detached, step));
        }
    }

    /// <summary>The fit's settings as a Markdown table, which TensorBoard's text tab renders.</summary>
    private string Settings(Trainer trainer)
    {
        var rows = new List<(string, string)>
        {
            ("model", string.Create(CultureInfo.InvariantCulture, $"{trainer.Model.GetType().Name} ({trainer.Model.parameters().Sum(p => p.numel()):N0} parameters)")),
            ("loss", trainer.LossFunc.GetType().Name),
            ("optimizer", trainer.Opt?.GetType().Name ?? "none"),
            ("learning rate", trainer.Opt is { } opt ? OptimizerSettings.GetLr(opt).ToString("G4", CultureInfo.InvariantCulture) : "none"),
            ("epochs", trainer.Epoch == 0 ? $"{trainer.NEpochs}" : $"{trainer.NEpochs} (resumed at epoch {trainer.Epoch})"),
            ("batch size", trainer.Dls.Train.BatchSize.ToString(CultureInfo.InvariantCulture)),
            ("samples", string.Create(CultureInfo.InvariantCulture, $"{trainer.Dls.Train.Dataset.Count:N0} train, {trainer.Dls.Valid.Dataset.Count:N0} valid")),
            ("callbacks", string.Join(", ", trainer.Callbacks.OrderBy(c => c.Order).Select(c => c.Name))),
            ("torch threads", get_num_threads().ToString(CultureInfo.InvariantCulture)),
        };
        if (trainer.LrMultipliers is { } multipliers) rows.Add(("lr multipliers", string.Join(", ", multipliers.Select(m => m.ToString("G4", CultureInfo.InvariantCulture)))));
        var text = new StringBuilder("| setting | value |\n| --- | --- |\n");
        foreach (var (setting, value) in rows) text.Append(CultureInfo.InvariantCulture, $"| {setting} | {value.Replace("|", "\\|", StringComparison.Ordinal)} |\n");
        return text.ToString();
    }
}
