using System.Runtime.ExceptionServices;
using Isaacai.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace Isaacai;

/// <summary>
/// The training loop, made of callbacks: fit, each epoch and each batch run their before, after and
/// cleanup hooks around a body, and a batch's body is itself only hooks. Everything else (computing,
/// stepping, metrics, devices) lives in callbacks.
/// </summary>
public partial class Trainer
{
    private readonly List<Callback> _callbacks = [];
    private CallbackTable? _table;
    private readonly Action _fitBody, _epochBody, _batchBody;
    private double _fitLr;
    private double _lr;
    private bool _warnedOfLoss;
    private Checkpoints.Checkpoint? _resume;

    public Trainer(DataLoaders dls, nn.Module<Tensor, Tensor, Tensor> lossFunc, OptimizerFactory optFunc,
                   nn.Module<Tensor, Tensor> model, IEnumerable<Callback>? callbacks = null, double lr = 1e-3)
    {
        Dls = dls ?? throw new ArgumentNullException(nameof(dls));
        LossFunc = lossFunc ?? throw new ArgumentNullException(nameof(lossFunc));
        OptFunc = optFunc ?? throw new ArgumentNullException(nameof(optFunc));
        Model = model ?? throw new ArgumentNullException(nameof(model));
        _lr = ValidLr(lr, nameof(lr));
        _fitBody = FitBody;
        _epochBody = EpochBody;
        _batchBody = BatchBody;
        AddCallbacks(callbacks ?? []);
    }

    public DataLoaders Dls { get; set; }
    public nn.Module<Tensor, Tensor, Tensor> LossFunc { get; set; }
    public OptimizerFactory OptFunc { get; set; }
    public nn.Module<Tensor, Tensor> Model { get; set; }
    /// <summary>The learning rate of the next fit: a positive finite number.</summary>
    public double Lr { get => _lr; set => _lr = ValidLr(value, nameof(value)); }

    private static double ValidLr(double lr, string parameter) => lr > 0 && double.IsFinite(lr) ? lr
        : throw new ArgumentOutOfRangeException(parameter, lr, $"The learning rate must be a positive finite number; {lr} is not.");

    public optim.Optimizer? Opt { get; set; }

    /// <summary>The loader of the running epoch: <c>Dls.Train</c> or <c>Dls.Valid</c>.</summary>
    public DataLoader? Dl { get; private set; }
    public Batch? Batch { get; set; }
    public Tensor? Preds { get; set; }
    public Tensor? Loss { get; set; }
    public int Epoch { get; private set; }
    public int Iter { get; private set; }
    public bool Training { get; private set; }
    public int NEpochs { get; private set; }

    /// <summary>The running fit's token: once cancelled, the fit stops at the next batch boundary.</summary>
    public CancellationToken Cancellation { get; private set; }

    /// <summary>Whether the running fit has train epochs and valid epochs.</summary>
    public bool FitsTrain { get; private set; }
    public bool FitsValid { get; private set; }

    /// <summary>
    /// Whether the running phase (train or valid) is the first, or the last, of its epoch: an epoch runs a
    /// train phase then a valid phase, either of which a fit may leave out.
    /// </summary>
    public bool FirstPhaseOfEpoch => Training || !FitsTrain;
    public bool LastPhaseOfEpoch => !Training || !FitsValid;

    /// <summary>Where callbacks log; the engine never writes to the console itself.</summary>
    public ILogger Logger { get; set; } = NullLogger.Instance;

    /// <summary>Where callbacks report epoch records and progress to a host (a console, a PowerShell pipeline).</summary>
    public ITrainingReporter Reporter { get; set; } = NullTrainingReporter.Instance;

    public IReadOnlyList<Callback> Callbacks => _callbacks;

    /// <summary>Adds callbacks; each instance once (it would run twice at every hook: a CSV logger writing each row twice).</summary>
    public void AddCallbacks(params IEnumerable<Callback> callbacks)
    {
        ThrowIfHeldElsewhere();
        var adding = callbacks.ToList();
        foreach (var (callback, i) in adding.Select((c, i) => (c, i)))
        {
            ArgumentNullException.ThrowIfNull(callback, nameof(callbacks));
            if (_callbacks.Contains(callback) || adding.IndexOf(callback) < i)
                throw new ArgumentException($"The callback '{callback.Name}' is already in this trainer; make a new one to add another.", nameof(callbacks));
        }
        _callbacks.AddRange(adding);
        _table = null;
    }

    public bool RemoveCallback(Callback callback)
    {
        ThrowIfHeldElsewhere();
        _table = null;
        return _callbacks.Remove(callback);
    }

    /// <summary>The callbacks that will run at <paramref name="hook"/>, in the order they will run.</summary>
    public IReadOnlyList<Callback> CallbacksFor(Hook hook) => new CallbackTable(_callbacks).For(hook);

    /// <summary>Keys of <see cref="Exception.Data"/> naming the hook and callback where a failure began.</summary>
    public const string FailedHookKey = "Isaacai.Hook", FailedCallbackKey = "Isaacai.Callback";

    /// <summary>Runs each hook in turn, and for each every callback implementing it, by order.</summary>
    public void RunCallbacks(params ReadOnlySpan<Hook> hooks)
    {
        _table ??= new CallbackTable(_callbacks);
        foreach (var hook in hooks)
            foreach (var callback in _table.For(hook))
            {
                try { callback.Invoke(hook, this); }
                catch (Exception e) when (NoteWhereItFailed(e, hook, callback)) { throw; } // the filter is false: never caught
            }
    }

    /// <summary>Tags a failure with its hook and callback, once, where it began; the exception itself goes on unchanged.</summary>
    private static bool NoteWhereItFailed(Exception e, Hook hook, Callback callback)
    {
        if (e is not CancelException && !e.Data.Contains(FailedHookKey))
        {
            e.Data[FailedHookKey] = HookNames.ToSeedName(hook);
            e.Data[FailedCallbackKey] = callback.Name;
        }
        return false;
    }

    /// <summary>The same by the seed's names (<c>"predict"</c>, <c>"get_loss"</c>), for hosts that speak in strings.</summary>
    public void RunCallbacks(params string[] names) => RunCallbacks(names.Select(HookNames.Parse).ToArray().AsSpan());

    /// <summary>
    /// Trains for <paramref name="epochs"/> epochs. <paramref name="lr"/> overrides <see cref="Lr"/> for this
    /// fit. A cancelled <paramref name="cancellation"/> stops at the next batch boundary as a CancelFit.
    /// <paramref name="callbacks"/>, <paramref name="reporter"/> and <paramref name="logger"/> serve this fit
    /// only (as the seed's <c>fit(cbs=...)</c>): they are put in place once the trainer is claimed, so a fit
    /// refused because another is running (on any thread) changes nothing, and are taken away after.
    /// With <paramref name="resume"/>, the fit continues a saved one: it restores the checkpoint once
    /// before_fit has run and goes on from the first epoch the checkpoint had not finished.
    /// </summary>
    public void Fit(int epochs = 1, bool train = true, bool valid = true, double? lr = null, CancellationToken cancellation = default,
                    IEnumerable<Callback>? callbacks = null, ITrainingReporter? reporter = null, ILogger? logger = null,
                    Checkpoints.Checkpoint? resume = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epochs);
        if (lr is { } fitLr) ValidLr(fitLr, nameof(lr));
        using var _ = Claim();
        FitClaimed(epochs, train, valid, lr, cancellation, callbacks, reporter, logger, resume);
    }

    /// <summary><see cref="Fit"/> once the trainer is claimed.</summary>
    internal void FitClaimed(int epochs, bool train, bool valid, double? lr, CancellationToken cancellation,
                             IEnumerable<Callback>? callbacks, ITrainingReporter? reporter, ILogger? logger, Checkpoints.Checkpoint? resume)
    {
        var forThisFit = callbacks?.ToList() ?? [];
        AddCallbacks(forThisFit); // refuses (a callback already in the trainer, say) before anything is changed
        var (previousReporter, previousLogger) = (Reporter, Logger);
        try
        {
            (Reporter, Logger) = (reporter ?? Reporter, logger ?? Logger);
            _resume = resume;
            FitOnce(epochs, train, valid, lr, cancellation);
        }
        finally
        {
            _resume = null;
            forThisFit.ForEach(callback => RemoveCallback(callback));
            (Reporter, Logger) = (previousReporter, previousLogger);
        }
    }

    private void FitOnce(int epochs, bool train, bool valid, double? lr, CancellationToken cancellation)
    {
        NEpochs = epochs;
        FitsTrain = train;
        FitsValid = valid;
        Cancellation = cancellation;
        _fitLr = lr ?? Lr;
        _warnedOfLoss = false;
        Logger.LogDebug("Fitting {Epochs} epoch(s) (train: {Train}, valid: {Valid}) at lr {Lr} with callbacks {Callbacks}",
            epochs, train, valid, _fitLr, string.Join(", ", _callbacks.Select(c => c.Name)));
        _table = new CallbackTable(_callbacks); // Orders may have changed since the last fit.
        CreateOptimizer();
        try { WithCallbacks(LoopLevel.Fit, _fitBody); }
        catch (CancelFitException) { } // only cleanup_fit can raise one this far (a stop landing there): the fit is ending anyway
    }

    /// <summary>
    /// (Re)creates <see cref="Opt"/> over the model's current trainable parameters at this fit's learning rate
    /// (and <see cref="LrMultipliers"/>). Call it after replacing parameters (moving the model to another device
    /// does) before the first step.
    /// </summary>
    public void CreateOptimizer()
    {
        Opt?.Dispose();
        Opt = Optimizers.Create(OptFunc, Model, _fitLr, LrMultipliers);
    }

    private void FitBody()
    {
        // Restored here, not before the fit: before_fit has placed the model and made the optimizer by now.
        int first = _resume?.RestoreInto(this) ?? 0;
        for (Epoch = first; Epoch < NEpochs; Epoch++)
        {
            if (FitsTrain) OneEpoch(training: true);
            if (FitsValid) { using var _ = no_grad(); OneEpoch(training: false); }
        }
    }

    private void OneEpoch(bool training)
    {
        Training = training;
        Model.train(training);
        Dl = training ? Dls.Train : Dls.Valid;
        WithCallbacks(LoopLevel.Epoch, _epochBody);
    }

    private void EpochBody()
    {
        using var batches = Dl!.BeginEpoch(Cancellation);
        for (Iter = 0; Iter < batches.Count; Iter++)
        {
            if (Cancellation.IsCancellationRequested) throw new CancelFitException();
            try
            {
                using var scope = NewDisposeScope(); // Every tensor a batch makes dies with the batch.
                try { Batch = batches.Get(Iter); }
                catch (OperationCanceledException) when (Cancellation.IsCancellationRequested) { throw new CancelFitException(); } // stopped while waiting for data
                WithCallbacks(LoopLevel.Batch, _batchBody);
            }
            finally { Batch = null; Preds = null; Loss = null; } // they are disposed now, whatever ended the batch
        }
    }

    private void BatchBody()
    {
        RunCallbacks(Hook.Predict, Hook.GetLoss);
        if (!_warnedOfLoss) WarnIfLossIsNotFinite();
        if (!Training) return;
        try { RunCallbacks(Hook.BeforeBackward, Hook.Backward, Hook.Step, Hook.ZeroGrad); }
        catch (CancelStepException) { } // gradients stay for a later step; after_batch still runs
    }

    /// <summary>A NaN or infinite loss spoils every step after it: say so, once per fit, where it began.</summary>
    private void WarnIfLossIsNotFinite()
    {
        if (Loss is not { } loss || loss.numel() != 1) return;
        double value = loss.ToDouble();
        if (double.IsFinite(value)) return;
        _warnedOfLoss = true;
        Logger.LogWarning("The loss is {Loss} at epoch {Epoch}, batch {Batch} ({Phase}); training from here on is meaningless. Lower the learning rate, or check the inputs for NaN. (Warned once per fit.)",
            value, Epoch, Iter, Training ? "train" : "valid");
    }

    /// <summary>The seed's <c>with_cbs</c>: before, body, after; a cancel of this level skips the rest; cleanup always.</summary>
    private void WithCallbacks(LoopLevel level, Action body)
    {
        var (before, after, cleanup) = level switch
        {
            LoopLevel.Fit => (Hook.BeforeFit, Hook.AfterFit, Hook.CleanupFit),
            LoopLevel.Epoch => (Hook.BeforeEpoch, Hook.AfterEpoch, Hook.CleanupEpoch),
            _ => (Hook.BeforeBatch, Hook.AfterBatch, Hook.CleanupBatch),
        };
        try
        {
            RunCallbacks(before);
            body();
            RunCallbacks(after);
        }
        catch (CancelException cancel) when (cancel.Level == level) { }
        catch (Exception inFlight)
        {
            RunCleanup(cleanup, inFlight);
            throw;
        }
        RunCleanup(cleanup, inFlight: null);
    }

    /// <summary>
    /// Runs every callback of a cleanup hook, even after one throws. The error the user sees is the first
    /// real one: the error in flight, else the first cleanup failure (a cancel is control flow, not an
    /// error); the other failures are attached to it (<see cref="CleanupErrorsOf"/>). Returns only when
    /// <paramref name="inFlight"/> (or nothing) should go on.
    /// </summary>
    private void RunCleanup(Hook cleanup, Exception? inFlight)
    {
        List<Exception>? failures = null;
        foreach (var callback in (_table ??= new CallbackTable(_callbacks)).For(cleanup))
        {
            try { callback.Invoke(cleanup, this); }
            catch (Exception e)
            {
                NoteWhereItFailed(e, cleanup, callback);
                (failures ??= []).Add(e);
            }
        }
        if (failures is null) return;
        var primary = inFlight is not null and not CancelException ? inFlight
            : failures.Find(e => e is not CancelException) ?? inFlight ?? failures[0];
        var attached = failures.Where(e => e != primary && e is not CancelException).ToList();
        if (attached.Count > 0)
            primary.Data[CleanupErrorsKey] = CleanupErrorsOf(primary).Concat(attached).ToArray();
        if (primary != inFlight) ExceptionDispatchInfo.Throw(primary);
    }

    /// <summary>Key of <see cref="Exception.Data"/> holding the cleanup failures that came after an error.</summary>
    public const string CleanupErrorsKey = "Isaacai.CleanupErrors";

    /// <summary>The cleanup callbacks that also failed while <paramref name="error"/> was ending the fit, in the order they ran.</summary>
    public static IReadOnlyList<Exception> CleanupErrorsOf(Exception error) => error.Data[CleanupErrorsKey] as Exception[] ?? [];
}
