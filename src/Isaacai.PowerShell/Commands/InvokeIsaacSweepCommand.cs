using System.Collections.Concurrent;
using System.Diagnostics;
using System.Management.Automation;
using System.Text.Json;
using Isaacai.Callbacks;
using Isaacai.PowerShell.Sweeps;
using Isaacai.Sweeps;

namespace Isaacai.PowerShell.Commands;

/// <summary>
/// Invoke-IsaacSweep: trains one model per trial, each in its own process (a pwsh child here, or a session
/// over SSH on -HostName), and writes each trial as it ends. The pipeline thread only schedules, writes and
/// journals; trials run in their own processes, driven from worker threads that run no script here.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "IsaacSweep", DefaultParameterSetName = LocalSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(SweepTrialObject.TypeName, "Isaacai.PowerShell.Sweeps.SweepSummary")]
public sealed class InvokeIsaacSweepCommand : PSCmdlet, IDisposable
{
    public const string LocalSet = "Local", HostNameSet = "HostName";

    private readonly CancellationTokenSource _stop = new();

    [Parameter(Mandatory = true, Position = 0)]
    public ScriptBlock TrialScript { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 1)]
    [SearchSpaceArgument]
    public SearchSpace SearchSpace { get; set; } = null!;

    /// <summary>How many trials; a grid search takes every point unless this is given.</summary>
    [Parameter]
    [ValidateRange(1, 100_000)]
    public int Trials { get; set; }

    [Parameter]
    public SweepStrategy Strategy { get; set; } = SweepStrategy.Random;

    [Parameter]
    public int Seed { get; set; }

    [Parameter]
    [ValidateRange(1, 100_000)]
    public int Epochs { get; set; } = 1;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Monitor { get; set; } = "valid_loss";

    [Parameter]
    [ValidateSet("Min", "Max")]
    public string? Mode { get; set; }

    /// <summary>Trials running at once on each host.</summary>
    [Parameter]
    [ValidateRange(1, 1024)]
    public int ThrottleLimit { get; set; } = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>libtorch threads per trial; by default the host's cores ÷ the trials it runs at once, at least 1.</summary>
    [Parameter]
    [ValidateRange(1, 1024)]
    public int ThreadsPerTrial { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Journal { get; set; }

    [Parameter]
    public SweepPruner Pruner { get; set; } = SweepPruner.None;

    /// <summary>Median: completed trials needed at an epoch before it prunes there.</summary>
    [Parameter]
    [ValidateRange(1, 100_000)]
    public int PrunerStartupTrials { get; set; } = 2;

    /// <summary>Median: epochs every trial trains before it can be pruned.</summary>
    [Parameter]
    [ValidateRange(0, 100_000)]
    public int PrunerWarmupEpochs { get; set; } = 1;

    /// <summary>Successive halving: the epochs of the first rung.</summary>
    [Parameter]
    [ValidateRange(1, 100_000)]
    public int MinEpochs { get; set; } = 1;

    /// <summary>Successive halving: each rung keeps 1 in this many trials and trains them this many times longer.</summary>
    [Parameter]
    [ValidateRange(2, 100)]
    public int ReductionFactor { get; set; } = 2;

    /// <summary>Where the best trial's model goes (Export-IsaacModel's format).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? BestModelPath { get; set; }

    /// <summary>After the trials, a summary with the best trial.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = HostNameSet)]
    [ValidateNotNullOrEmpty]
    public string[] HostName { get; set; } = [];

    [Parameter(ParameterSetName = HostNameSet)]
    [ValidateRange(1, 65535)]
    public int Port { get; set; }

    [Parameter(ParameterSetName = HostNameSet)]
    [ValidateNotNullOrEmpty]
    public string? UserName { get; set; }

    [Parameter(ParameterSetName = HostNameSet)]
    [ValidateNotNullOrEmpty]
    public string? KeyFilePath { get; set; }

    /// <summary>SSH options for the hosts (ssh -o), as New-PSSession -Options takes them: @{ UserKnownHostsFile = '...' }.</summary>
    [Parameter(ParameterSetName = HostNameSet)]
    public System.Collections.Hashtable? SshOption { get; set; }

    /// <summary>The module on the remote hosts: a name it is installed under, or a path there.</summary>
    [Parameter(ParameterSetName = HostNameSet)]
    [ValidateNotNullOrEmpty]
    public string? ModulePath { get; set; }

    /// <summary>Files or folders copied to each host (Copy-Item -ToSession) into the folder its trials start in.</summary>
    [Parameter(ParameterSetName = HostNameSet)]
    [ValidateNotNullOrEmpty]
    public string[] CopyToHost { get; set; } = [];

    private readonly Dictionary<int, TrialResult> _ended = [];
    private readonly Dictionary<int, string> _models = [];
    private readonly Dictionary<int, (List<double> Values, TimeSpan Duration, string? Checkpoint, SweepHost? Host)> _progress = [];
    private readonly BlockingCollection<TrialEpoch> _epochs = [];
    private readonly Dictionary<int, int> _runningEpoch = [];
    private int _epochsTrained, _resumed;
    private MonitorMode _mode;
    private SweepJournal? _journal;

    protected override void ProcessRecord()
    {
        var clock = Stopwatch.StartNew();
        if (Strategy == SweepStrategy.Random && !MyInvocation.BoundParameters.ContainsKey(nameof(Trials)))
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("A random sweep needs -Trials: how many trials to draw."), "TrialsMissing", ErrorCategory.InvalidArgument, null));
        var clash = SearchSpace.Ranges.Keys.FirstOrDefault(k => SweepTrialObject.FixedProperties.Contains(k, StringComparer.OrdinalIgnoreCase));
        if (clash is not null)
            ThrowTerminatingError(new ErrorRecord(new ArgumentException($"The search space names a parameter '{clash}', which each trial's output already has; rename it. Taken: {string.Join(", ", SweepTrialObject.FixedProperties)}."),
                "ParameterNameTaken", ErrorCategory.InvalidArgument, clash));
        try { _mode = Mode is null ? new MonitoredValue(Monitor).Mode : Enum.Parse<MonitorMode>(Mode); }
        catch (ArgumentException e) { ThrowTerminatingError(new ErrorRecord(e, "ModeUnknown", ErrorCategory.InvalidArgument, Monitor)); }

        string? journalPath = Journal is null ? null : GetUnresolvedProviderPathFromPSPath(Journal);
        int seed = MyInvocation.BoundParameters.ContainsKey(nameof(Seed)) ? Seed
            : (journalPath is null ? null : ReadJournalDefinition(journalPath))?.Seed ?? Random.Shared.Next();
        IReadOnlyList<TrialSpec> plan;
        try { plan = SearchSpace.Plan(Strategy, MyInvocation.BoundParameters.ContainsKey(nameof(Trials)) ? Trials : null, seed); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            ThrowTerminatingError(new ErrorRecord(e, "SearchSpaceInvalid", ErrorCategory.InvalidArgument, SearchSpace));
            return;
        }
        var halving = Pruner == SweepPruner.SuccessiveHalving ? new SuccessiveHalving(MinEpochs, ReductionFactor) : null;
        var median = Pruner == SweepPruner.Median ? new MedianPruner(PrunerStartupTrials, PrunerWarmupEpochs) : null;
        string bestModel = BestModelPath is null ? "" : GetUnresolvedProviderPathFromPSPath(BestModelPath);
        var where = HostName.Length == 0 ? "this machine" : string.Join(", ", HostName);
        if (!ShouldProcess(where, $"Run {plan.Count} trial(s) of {Epochs} epoch(s), each in its own process")) return;
        if (BestModelPath is not null && !ShouldProcess(bestModel, "Write the best trial's model")) return;
        if (journalPath is not null)
        {
            if (!File.Exists(journalPath) && !ShouldProcess(journalPath, "Write the sweep's journal")) return;
            var definition = new SweepDefinition(SearchSpace.ToString(), Strategy, seed, plan.Count, Epochs, Monitor, _mode,
                halving?.ToString() ?? median?.ToString() ?? "none");
            try { _journal = SweepJournal.Open(journalPath, definition, plan); }
            catch (Exception e) when (e is IOException or InvalidDataException or InvalidOperationException or UnauthorizedAccessException)
            {
                ThrowTerminatingError(new ErrorRecord(e, "JournalUnusable", ErrorCategory.InvalidData, journalPath));
            }
            foreach (var trial in _journal!.Ended)
            {
                _ended[trial.Number] = trial;
                _resumed++;
                WriteObject(SweepTrialObject.From(trial, Monitor));
            }
            if (_resumed > 0) WriteVerbose($"{journalPath}: {_resumed} of {plan.Count} trials ended in an earlier run; running the other {plan.Count - _resumed}.");
        }

        var sweepId = Guid.NewGuid().ToString("N")[..12];
        var hosts = HostName.Length == 0
            ? [new LocalHost(Math.Min(ThrottleLimit, plan.Count), ModuleFile(), SessionState.Path.CurrentFileSystemLocation.ProviderPath)]
            : HostName.Select(h => (SweepHost)new SshHost(h, Math.Min(ThrottleLimit, plan.Count), Port == 0 ? null : Port, UserName,
                KeyFilePath is null ? null : GetUnresolvedProviderPathFromPSPath(KeyFilePath), SshOption, ModulePath,
                CopyToHost.Select(GetUnresolvedProviderPathFromPSPath).ToArray(), sweepId)).ToList();
        var localFolder = Path.Combine(Path.GetTempPath(), $"isaacai-sweep-{sweepId}");
        var settings = new WorkerSettings(TrialScript.ToString(), ThreadsPerTrial, Monitor, _mode.ToString(), median,
            SaveCheckpoint: halving is not null, ExportModel: BestModelPath is not null, localFolder);
        try
        {
            if (halving is null) RunAll(plan.Where(t => !_ended.ContainsKey(t.Number)).Select(t => new TrialWork(t, 0, Epochs, null, null, 0)), hosts, settings, plan.Count);
            else RunRungs(plan, halving, hosts, settings);
            var best = TrialResult.Best(_ended.Values);
            if (best is not null && BestModelPath is not null)
            {
                if (_models.TryGetValue(best.Number, out var model)) File.Copy(model, bestModel, overwrite: true);
                else WriteWarning($"The best trial, {best.Number}, ended in an earlier run, whose models are gone: {bestModel} was not written. Run that trial again to get its model.");
            }
            WriteProgress(new ProgressRecord(0, "Sweep", "Done") { RecordType = ProgressRecordType.Completed });
            if (PassThru)
                WriteObject(new SweepSummary
                {
                    Best = best is null ? null : SweepTrialObject.From(best, Monitor), Trials = plan.Count,
                    Completed = _ended.Values.Count(t => t.State == TrialState.Completed), Pruned = _ended.Values.Count(t => t.State == TrialState.Pruned),
                    Failed = _ended.Values.Count(t => t.State == TrialState.Failed), EpochsTrained = _epochsTrained,
                    Duration = Math.Round(clock.Elapsed.TotalSeconds, 3), Journal = journalPath,
                    BestModelPath = best is not null && _models.ContainsKey(best.Number) && BestModelPath is not null ? bestModel : null,
                });
        }
        finally
        {
            _journal?.Dispose();
            foreach (var host in hosts) host.CleanUp();
            try { if (Directory.Exists(localFolder)) Directory.Delete(localFolder, recursive: true); }
            catch (IOException) { }
        }
    }

    /// <summary>Every trial from 0 to -Epochs (no pruner, or the median pruner inside each trial).</summary>
    private void RunAll(IEnumerable<TrialWork> work, IReadOnlyList<SweepHost> hosts, WorkerSettings settings, int total)
    {
        var queue = new Queue<TrialWork>(work);
        Drive(queue, hosts, settings, total, run =>
        {
            var values = run.Values;
            var state = run.End switch { RunEnd.Trained => TrialState.Completed, RunEnd.Pruned => TrialState.Pruned, _ => TrialState.Failed };
            End(new TrialResult(run.Work.Spec.Number, run.Work.Spec.Seed, run.Work.Spec.Parameters, state, values, _mode, run.Error, run.Duration, run.Host.Name), run.Model);
        });
    }

    /// <summary>
    /// Successive halving: each rung trains its trials up to the rung's epochs, continuing each from its
    /// checkpoint of the rung before; the best go on, the others end as Pruned. Trials a journal has ended take
    /// part with the values it recorded, so a resumed sweep promotes the same trials.
    /// </summary>
    private void RunRungs(IReadOnlyList<TrialSpec> plan, SuccessiveHalving halving, IReadOnlyList<SweepHost> hosts, WorkerSettings settings)
    {
        var rungs = halving.Rungs(Epochs);
        var participants = plan.ToList();
        for (int k = 0; k < rungs.Count && participants.Count > 0; k++)
        {
            int epochs = rungs[k];
            bool last = k == rungs.Count - 1;
            var queue = new Queue<TrialWork>();
            foreach (var trial in participants.Where(t => !_ended.ContainsKey(t.Number)))
            {
                _progress.TryGetValue(trial.Number, out var p);
                bool resumes = p.Checkpoint is not null && p.Host?.LostBecause is null && p.Values.Count == (k == 0 ? 0 : rungs[k - 1]);
                if (!resumes) _progress[trial.Number] = ([], p.Duration, null, null);
                queue.Enqueue(resumes ? new TrialWork(trial, p.Values.Count, epochs, p.Checkpoint, p.Host, 0) : new TrialWork(trial, 0, epochs, null, null, 0));
            }
            Drive(queue, hosts, settings with { SaveCheckpoint = !last, ExportModel = last && settings.ExportModel }, plan.Count, run =>
            {
                var number = run.Work.Spec.Number;
                var (values, duration, _, _) = _progress[number];
                if (run.Work.FromEpochs == 0) values.Clear(); // started again from scratch, on another host after a loss
                values.AddRange(run.Values);
                _progress[number] = (values, duration + run.Duration, run.Checkpoint, run.Host);
                if (run.End is RunEnd.Failed or RunEnd.HostLost || last)
                    End(new TrialResult(number, run.Work.Spec.Seed, run.Work.Spec.Parameters, run.End == RunEnd.Trained ? TrialState.Completed : TrialState.Failed,
                        values, _mode, run.Error, duration + run.Duration, run.Host.Name), run.Model);
            });
            if (last || _stop.IsCancellationRequested) break;
            var reached = participants.Select(t => (t.Number, Values: _ended.TryGetValue(t.Number, out var r) ? r.Values : _progress[t.Number].Values))
                .Where(t => t.Values.Count >= epochs && !(_ended.TryGetValue(t.Number, out var r) && r.State == TrialState.Failed))
                .Select(t => (t.Number, TrialResult.BestOf(t.Values.Take(epochs), _mode))).ToArray();
            var promoted = halving.Promote(reached, _mode).ToHashSet();
            foreach (var trial in participants.Where(t => !promoted.Contains(t.Number) && !_ended.ContainsKey(t.Number)))
            {
                var (values, duration, _, host) = _progress[trial.Number];
                End(new TrialResult(trial.Number, trial.Seed, trial.Parameters, TrialState.Pruned, values, _mode, null, duration, host?.Name ?? "localhost"), null);
            }
            participants = participants.Where(t => promoted.Contains(t.Number)).ToList();
        }
    }

    /// <summary>
    /// Runs <paramref name="queue"/> on the hosts' free slots until it is empty and nothing runs: the
    /// pipeline thread starts runs, shows progress, and hands each finished run to <paramref name="finished"/>.
    /// A run whose host was lost goes back in the queue once for another host; Ctrl+C kills every run.
    /// </summary>
    private void Drive(Queue<TrialWork> queue, IReadOnlyList<SweepHost> hosts, WorkerSettings settings, int total, Action<TrialRunResult> finished)
    {
        var running = new List<TrialRun>();
        try
        {
            while (queue.Count > 0 || running.Count > 0)
            {
                StartWhatFits(queue, running, hosts, settings);
                if (running.Count == 0)
                {
                    // Nothing can start: every host that could take the queued runs is lost.
                    while (queue.TryDequeue(out var orphan))
                        finished(new TrialRunResult(orphan, orphan.Host ?? hosts[0], RunEnd.Failed, [], $"No host is left to run it: {string.Join("; ", hosts.Select(h => h.LostBecause))}", TimeSpan.Zero, null, null));
                    break;
                }
                var tasks = running.Select(r => (Task)r.Task!).ToArray();
                Task.WaitAny(tasks, 250);
                while (_epochs.TryTake(out var epoch)) _runningEpoch[epoch.Trial] = epoch.Epoch + 1;
                foreach (var run in running.Where(r => r.Task!.IsCompleted).ToArray())
                {
                    running.Remove(run);
                    run.Host.Running--;
                    _runningEpoch.Remove(run.Work.Spec.Number);
                    var result = run.Task!.Result;
                    _epochsTrained += result.Values.Count;
                    if (result.End == RunEnd.Stopped) continue;
                    if (result.End == RunEnd.HostLost)
                    {
                        run.Host.LostBecause ??= result.Error;
                        WriteWarning($"{result.Error} Trial {run.Work.Spec.Number} {(run.Work.Attempt == 0 && hosts.Any(h => h.LostBecause is null) ? "goes to another host" : "is marked failed")}.");
                        if (run.Work.Attempt == 0 && hosts.Any(h => h.LostBecause is null))
                        {
                            // It starts again from scratch: a checkpoint left on the lost host cannot be reached.
                            queue.Enqueue(run.Work with { FromEpochs = 0, Resume = null, Host = null, Attempt = 1 });
                            continue;
                        }
                    }
                    finished(result);
                }
                ShowProgress(total, running);
                if (Stopping) break;
            }
        }
        finally
        {
            if (running.Count > 0)
            {
                _stop.Cancel();
                foreach (var run in running) run.Kill();
                // Each run ends once its process is gone; its trial is not recorded, so a resumed sweep runs it again.
                Task.WaitAll(running.Select(r => (Task)r.Task!).ToArray(), TimeSpan.FromSeconds(30));
            }
        }
    }

    private void StartWhatFits(Queue<TrialWork> queue, List<TrialRun> running, IReadOnlyList<SweepHost> hosts, WorkerSettings settings)
    {
        int waiting = queue.Count;
        for (int i = 0; i < waiting && !_stop.IsCancellationRequested; i++)
        {
            var work = queue.Dequeue();
            var host = work.Host is { } pinned
                ? (pinned.LostBecause is null && pinned.Running < pinned.Slots ? pinned : null)
                : hosts.Where(h => h.LostBecause is null && h.Running < h.Slots).OrderBy(h => h.Running).FirstOrDefault();
            if (host is null)
            {
                if (work.Host is { LostBecause: not null }) queue.Enqueue(work with { FromEpochs = 0, Resume = null, Host = null });
                else queue.Enqueue(work);
                continue;
            }
            var run = new TrialRun(work, host, _stop.Token);
            host.Running++;
            running.Add(run);
            _runningEpoch[work.Spec.Number] = work.FromEpochs;
            var completed = settings.Pruner is null ? null : JsonSerializer.Serialize(
                _ended.Values.Where(t => t.State == TrialState.Completed).OrderBy(t => t.Number).Select(t => t.Values.ToArray()).ToArray());
            run.Start(settings, completed, _epochs);
        }
    }

    private void End(TrialResult trial, string? model)
    {
        _ended[trial.Number] = trial;
        if (model is not null) _models[trial.Number] = model;
        _journal?.Append(trial);
        WriteObject(SweepTrialObject.From(trial, Monitor));
    }

    private void ShowProgress(int total, List<TrialRun> running)
    {
        int done = _ended.Count, pruned = _ended.Values.Count(t => t.State == TrialState.Pruned), failed = _ended.Values.Count(t => t.State == TrialState.Failed);
        var status = $"{done} of {total} trials done ({pruned} pruned, {failed} failed), {running.Count} running";
        var current = string.Join(", ", running.Select(r => $"trial {r.Work.Spec.Number} epoch {_runningEpoch.GetValueOrDefault(r.Work.Spec.Number)}/{r.Work.ToEpochs} on {r.Host.Name}"));
        WriteProgress(new ProgressRecord(0, "Sweep", status + (current.Length > 0 ? ": " + current : "")) { PercentComplete = Math.Clamp(100 * done / Math.Max(1, total), 0, 100) });
    }

    private SweepDefinition? ReadJournalDefinition(string path)
    {
        try { return SweepJournal.ReadDefinition(path); }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(new ErrorRecord(e, "JournalUnusable", ErrorCategory.InvalidData, path));
            return null;
        }
    }

    /// <summary>The module's manifest, for the trials' processes here to import the same build.</summary>
    private string ModuleFile() => Path.Combine(MyInvocation.MyCommand.Module?.ModuleBase ?? Path.GetDirectoryName(typeof(InvokeIsaacSweepCommand).Assembly.Location)!, "Isaacai.psd1");

    protected override void StopProcessing() => _stop.Cancel();

    public void Dispose()
    {
        _stop.Dispose();
        _epochs.Dispose();
        _journal?.Dispose();
    }
}
