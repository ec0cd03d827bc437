using System.Collections.Concurrent;
using System.Diagnostics;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Isaacai.Sweeps;

namespace Isaacai.PowerShell.Sweeps;

/// <summary>One piece of a trial's training: from <see cref="FromEpochs"/> (resuming <see cref="Resume"/>) to <see cref="ToEpochs"/>, on <see cref="Host"/> if set.</summary>
internal sealed record TrialWork(TrialSpec Spec, int FromEpochs, int ToEpochs, string? Resume, SweepHost? Host, int Attempt);

/// <summary>How a piece of training ended.</summary>
internal enum RunEnd { Trained, Pruned, Failed, HostLost, Stopped }

/// <summary>What a trial's process reported, with where its checkpoint and model are now.</summary>
internal sealed record TrialRunResult(TrialWork Work, SweepHost Host, RunEnd End, IReadOnlyList<double> Values, string? Error, TimeSpan Duration, string? Checkpoint, string? Model);

/// <summary>A finished epoch of a running trial, for the progress bar.</summary>
internal sealed record TrialEpoch(int Trial, int Epoch);

/// <summary>The settings every trial's worker gets.</summary>
internal sealed record WorkerSettings(string TrialScript, int Threads, string Monitor, string Mode, Isaacai.Sweeps.MedianPruner? Pruner,
    bool SaveCheckpoint, bool ExportModel, string LocalFolder);

/// <summary>
/// Runs one piece of a trial on a worker thread: starts the trial's process, runs <see cref="SweepWorker.Script"/>
/// there and waits. No script runs in the caller's runspace; each finished epoch goes to the collection <see cref="Start"/> is given.
/// </summary>
internal sealed class TrialRun
{
    private readonly CancellationToken _stop;
    private TrialProcess? _process;
    private readonly Lock _gate = new();

    public TrialRun(TrialWork work, SweepHost host, CancellationToken stop) => (Work, Host, _stop) = (work, host, stop);

    public TrialWork Work { get; }
    public SweepHost Host { get; }
    public Task<TrialRunResult>? Task { get; private set; }

    public void Start(WorkerSettings settings, string? completedJson, BlockingCollection<TrialEpoch> epochs) =>
        Task = System.Threading.Tasks.Task.Factory.StartNew(() => Run(settings, completedJson, epochs), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>Ends the trial's process now; the run then ends as Stopped.</summary>
    public void Kill()
    {
        lock (_gate) _process?.Kill();
    }

    private TrialRunResult Run(WorkerSettings settings, string? completedJson, BlockingCollection<TrialEpoch> epochs)
    {
        var clock = Stopwatch.StartNew();
        TrialRunResult Ended(RunEnd end, IReadOnlyList<double>? values = null, string? error = null, string? checkpoint = null, string? model = null) =>
            new(Work, Host, _stop.IsCancellationRequested ? RunEnd.Stopped : end, values ?? [], error, clock.Elapsed, checkpoint, model);
        try
        {
            if (_stop.IsCancellationRequested) return Ended(RunEnd.Stopped);
            var process = Host.Start();
            lock (_gate) _process = process;
            using (process)
            {
                using var stopping = _stop.Register(Kill);
                var shell = System.Management.Automation.PowerShell.Create();
                // Disposing a pipeline still running stops it first, and a killed process never answers that stop.
                using var disposal = new Disposal(() => { if (_stop.IsCancellationRequested || process.Abandoned) System.Threading.Tasks.Task.Run(shell.Dispose); else shell.Dispose(); });
                shell.Runspace = process.Runspace;
                var name = $"trial-{Work.Spec.Number}";
                shell.AddScript(SweepWorker.Script)
                    .AddParameter("ModulePath", Host.ModulePath).AddParameter("TrialScript", settings.TrialScript)
                    .AddParameter("Parameters", new System.Collections.Hashtable(Work.Spec.Parameters.ToDictionary(p => p.Key, p => p.Value), StringComparer.OrdinalIgnoreCase))
                    .AddParameter("Seed", Work.Spec.Seed).AddParameter("Threads", settings.Threads).AddParameter("Slots", Host.Slots)
                    .AddParameter("Epochs", Work.ToEpochs).AddParameter("Monitor", settings.Monitor).AddParameter("Mode", settings.Mode)
                    .AddParameter("PrunerStartup", settings.Pruner?.StartupTrials ?? 0).AddParameter("PrunerWarmup", settings.Pruner?.WarmupEpochs ?? 0)
                    .AddParameter("Completed", completedJson).AddParameter("Resume", Work.Resume)
                    .AddParameter("Location", Host.Location).AddParameter("WorkFolder", Host.WorkFolder).AddParameter("TrialName", name)
                    .AddParameter("SaveCheckpoint", settings.SaveCheckpoint).AddParameter("ExportModel", settings.ExportModel);
                var output = new PSDataCollection<PSObject>();
                PSObject? end = null;
                output.DataAdded += (_, e) =>
                {
                    var item = output[e.Index];
                    switch (item.Properties["Kind"]?.Value as string)
                    {
                        case "start": process.ProcessId = LanguagePrimitives.ConvertTo<int>(item.Properties["Pid"].Value); break;
                        case "epoch": epochs.Add(new TrialEpoch(Work.Spec.Number, LanguagePrimitives.ConvertTo<int>(item.Properties["Epoch"].Value))); break;
                        case "end": end = item; break;
                    }
                };
                try
                {
                    // A killed process can leave the remote pipeline waiting on a transport that never answers:
                    // on Ctrl+C the run ends once the process is killed, and a local process that died ends it
                    // too, without waiting for the pipeline.
                    var invocation = shell.BeginInvoke<PSObject, PSObject>(null, output);
                    while (WaitHandle.WaitAny([invocation.AsyncWaitHandle, _stop.WaitHandle], TimeSpan.FromSeconds(1)) is var signalled && signalled != 0)
                    {
                        if (signalled == 1) return Ended(RunEnd.Stopped);
                        if (!Host.IsRemote && end is null && process.HasExited())
                        {
                            process.Abandon();
                            return Ended(RunEnd.Failed, error: $"The trial's process ({process.ProcessId}) ended without a result: it was killed or crashed.");
                        }
                    }
                    shell.EndInvoke(invocation);
                }
                catch (Exception e) when (e is RuntimeException or InvalidRunspaceStateException)
                {
                    return Lost(process, e) ?? Ended(RunEnd.Failed, error: EngineErrors.WithoutNativeFrames(e.Message));
                }
                if (end is null)
                    return Lost(process, null) ?? Ended(RunEnd.Failed, error: shell.Streams.Error.FirstOrDefault()?.ToString() ?? "The trial's process ended without a result.");
                var values = ((end.Properties["Values"].Value as PSObject)?.BaseObject as System.Collections.IEnumerable ?? end.Properties["Values"].Value as System.Collections.IEnumerable)?
                    .Cast<object>().Select(v => LanguagePrimitives.ConvertTo<double>(v)).ToArray() ?? [];
                string? failure = end.Properties["Failure"].Value as string;
                string? checkpoint = Bring(process, end.Properties["Checkpoint"].Value as string, settings.LocalFolder, keepRemote: true);
                string? model = Bring(process, end.Properties["Model"].Value as string, settings.LocalFolder, keepRemote: false);
                if (failure is not null) return Ended(RunEnd.Failed, values, failure);
                return Ended(LanguagePrimitives.IsTrue(end.Properties["Pruned"].Value) ? RunEnd.Pruned : RunEnd.Trained, values, checkpoint: checkpoint, model: model);
            }
        }
        catch (HostLostException e) { return Ended(RunEnd.HostLost, error: e.Message); }
        catch (Exception e) when (e is RuntimeException or IOException or InvalidOperationException)
        {
            return Ended(RunEnd.Failed, error: "The trial's process could not run it: " + e.Message);
        }
    }

    /// <summary>A remote trial whose session broke lost its host (to retry elsewhere); a local one just failed.</summary>
    private TrialRunResult? Lost(TrialProcess process, Exception? error)
    {
        if (!Host.IsRemote || _stop.IsCancellationRequested) return null;
        var state = process.Runspace.RunspaceStateInfo.State;
        if (state is RunspaceState.Opened) return null;
        return new TrialRunResult(Work, Host, RunEnd.HostLost, [], $"Host {Host.Name} dropped the trial ({state}): {error?.Message}", TimeSpan.Zero, null, null);
    }

    /// <summary>
    /// A file the worker wrote: a local one stays where it is (model files are moved into the sweep's folder);
    /// a remote model comes here, while a remote checkpoint stays on its host for the trial's next rung there.
    /// </summary>
    private string? Bring(TrialProcess process, string? path, string localFolder, bool keepRemote)
    {
        if (path is null || (keepRemote && Host.IsRemote)) return path;
        Directory.CreateDirectory(localFolder);
        var destination = Path.Combine(localFolder, $"{Host.Name}-{Path.GetFileName(path)}");
        if (!Host.IsRemote && keepRemote) return path;
        process.Fetch(path, destination);
        return destination;
    }

    private sealed class Disposal(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }
}
