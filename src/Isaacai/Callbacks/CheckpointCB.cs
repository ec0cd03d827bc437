using System.Globalization;
using Isaacai.Checkpoints;
using Microsoft.Extensions.Logging;

namespace Isaacai.Callbacks;

/// <summary>
/// Saves a <see cref="Checkpoint"/> as epochs end: every <see cref="Every"/> epochs, or, with a monitored
/// key, whenever that value improves (the best so far). <c>{epoch}</c> in the path keeps one file per
/// epoch; without it each save replaces the last, atomically. Resume a fit from the file with
/// <c>Trainer.Fit(..., resume: Checkpoint.Load(path))</c> or <c>Invoke-IsaacFit -Resume</c>.
/// </summary>
public class CheckpointCB : Callback, ICheckpointable
{
    public CheckpointCB(string path, int every = 1, string? monitor = null, MonitorMode mode = MonitorMode.Auto)
    {
        Path = string.IsNullOrWhiteSpace(path) ? throw new ArgumentException("Give the checkpoint's path.", nameof(path)) : path;
        Every = every >= 1 ? every : throw new ArgumentOutOfRangeException(nameof(every), every, "Every must be at least 1 epoch.");
        Monitor = monitor is null ? null : new MonitoredValue(monitor, mode);
        Order = 20; // after the record is made (MetricsCB, 0) and after EarlyStoppingCB (10) has updated its state
    }

    public string Path { get; }
    public int Every { get; }
    public MonitoredValue? Monitor { get; }

    /// <summary>The best monitored value saved so far (NaN before the first).</summary>
    public double Best { get; private set; } = double.NaN;

    /// <summary>The files written by the last fit, in order.</summary>
    public IList<string> Saved { get; } = [];

    public override void BeforeFit(Trainer trainer)
    {
        Best = double.NaN;
        Saved.Clear();
    }

    public override void AfterEpoch(Trainer trainer)
    {
        if (!trainer.LastPhaseOfEpoch) return;
        int completed = trainer.Epoch + 1;
        if (Monitor is not null)
        {
            double value = Monitor.Read(trainer)!.Value;
            if (!Monitor.Improves(value, Best)) return;
            Best = value;
        }
        else if (completed % Every != 0) return;
        var path = Path.Replace("{epoch}", completed.ToString(CultureInfo.InvariantCulture), StringComparison.OrdinalIgnoreCase);
        Checkpoint.Save(trainer, path, completed);
        Saved.Add(path);
        trainer.Logger.LogInformation("Saved checkpoint {Path} after {Epochs} epoch(s)", path, completed);
    }

    public void SaveState(CallbackState state) => state.Values["best"] = Best;

    public void RestoreState(CallbackState state) => Best = state.Value("best");
}
