using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization;
using Isaacai.SavedModels;
using Microsoft.Extensions.Logging;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Isaacai.Checkpoints;

/// <summary>
/// Everything a fit needs to go on as if it had never stopped: the model's weights, the optimizer's state,
/// torch's random generator, each <see cref="ICheckpointable"/> callback's state and how many epochs were
/// done. One zip file: <c>checkpoint.json</c>, <c>model.safetensors</c>, <c>optimizer.bin</c> (TorchSharp's
/// own optimizer format) and <c>state.safetensors</c> (the generator and callbacks' tensors).
/// </summary>
public sealed class Checkpoint : IDisposable
{
    public const string Extension = ".isaacckpt", FormatName = "isaacai-checkpoint";
    public const int CurrentVersion = 1;
    private const string InfoEntry = "checkpoint.json", ModelEntry = "model.safetensors", OptimizerEntry = "optimizer.bin", StateEntry = "state.safetensors";
    private const string RngKey = "torch.rng_state", CallbackPrefix = "callbacks/";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, // a best value may be NaN or infinite
    };

    private readonly Dictionary<string, Tensor> _model;
    private readonly byte[]? _optimizer;
    private readonly Tensor _rng;
    private readonly Dictionary<string, CallbackState> _callbacks;

    private Checkpoint(string path, CheckpointInfo info, Dictionary<string, Tensor> model, byte[]? optimizer, Tensor rng, Dictionary<string, CallbackState> callbacks)
    {
        Path = path;
        Info = info;
        _model = model;
        _optimizer = optimizer;
        _rng = rng;
        _callbacks = callbacks;
    }

    public CheckpointInfo Info { get; }

    /// <summary>The file it was read from, for messages.</summary>
    public string Path { get; }

    /// <summary>Epochs finished when it was saved: a resumed fit starts at this epoch.</summary>
    public int EpochsCompleted => Info.EpochsCompleted;

    /// <summary>The names of the callbacks whose state it holds.</summary>
    public IReadOnlyCollection<string> CallbackNames => _callbacks.Keys;

    /// <summary>
    /// Writes <paramref name="trainer"/>'s state to <paramref name="path"/> atomically (a temporary file in
    /// the same folder, flushed to disk, then renamed), so a crash while saving leaves the previous file whole.
    /// </summary>
    public static void Save(Trainer trainer, string path, int epochsCompleted)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentOutOfRangeException.ThrowIfNegative(epochsCompleted);
        var states = new Dictionary<string, CallbackState>();
        try
        {
            foreach (var (key, callback) in Checkpointables(trainer))
            {
                var state = new CallbackState();
                states[key] = state;
                callback.SaveState(state);
            }
            var info = new CheckpointInfo(FormatName, CurrentVersion, $"Isaacai {typeof(Checkpoint).Assembly.GetName().Version}", DateTimeOffset.UtcNow,
                trainer.Model.GetType().FullName ?? trainer.Model.GetName(), trainer.Opt?.GetType().Name, epochsCompleted,
                states.ToDictionary(s => s.Key, s => s.Value.Values));
            using var rng = random.get_rng_state();
            var tensors = new Dictionary<string, Tensor> { [RngKey] = rng };
            foreach (var (key, state) in states)
                foreach (var (name, tensor) in state.Tensors) tensors[$"{CallbackPrefix}{key}/{name}"] = tensor;
            IO.AtomicFile.Write(path, stream =>
            {
                using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
                using (var entry = zip.CreateEntry(InfoEntry).Open()) JsonSerializer.Serialize(entry, info, Json);
                using (var entry = zip.CreateEntry(ModelEntry, CompressionLevel.Fastest).Open()) StateDicts.WriteSafetensors(entry, trainer.Model);
                if (trainer.Opt is OptimizerHelper optimizer)
                {
                    using var entry = zip.CreateEntry(OptimizerEntry, CompressionLevel.Fastest).Open();
                    using var writer = new BinaryWriter(entry);
                    optimizer.save_state_dict(writer);
                }
                using (var entry = zip.CreateEntry(StateEntry, CompressionLevel.Fastest).Open()) Safetensors.Write(entry, tensors);
            });
        }
        finally { foreach (var state in states.Values) state.Dispose(); }
    }

    /// <summary>
    /// Reads a checkpoint into memory; nothing is applied until <see cref="RestoreInto"/>. Given the
    /// <paramref name="model"/> it will restore into, a weights entry larger than that model's weights is refused
    /// before it is inflated.
    /// </summary>
    public static Checkpoint Load(string path, nn.Module? model = null)
    {
        using var file = File.OpenRead(path);
        ZipArchive zip;
        try { zip = new ZipArchive(file, ZipArchiveMode.Read); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path} is not an Isaacai checkpoint: its zip archive is damaged or truncated ({e.Message}).", e); }
        using (zip)
        {
            var info = ReadInfo(zip, path);
            // Given the model, every entry is bounded by what its weights take: the optimizer keeps at most a few
            // tensors per parameter (Adam: two moments), the callbacks a few copies (early stopping's best weights).
            long? weightsBound = model is null ? null : StateDicts.SafetensorsBound(model);
            long? Times(int copies) => weightsBound * copies + (16L << 20);
            var weights = ZipEntries.ReadSafetensors(zip, ModelEntry, path, weightsBound);
            Dictionary<string, Tensor>? state = null;
            try // every failure from here on frees what was read
            {
                state = ZipEntries.ReadSafetensors(zip, StateEntry, path, Times(4));
                byte[]? optimizer = zip.GetEntry(OptimizerEntry) is null ? null
                    : ZipEntries.ReadVerified(zip, OptimizerEntry, path, Times(4) ?? long.MaxValue, "this model's optimizer state");
                var callbacks = (info.Callbacks ?? []).ToDictionary(c => c.Key, c =>
                {
                    var callbackState = new CallbackState();
                    foreach (var (key, value) in c.Value) callbackState.Values[key] = value;
                    return callbackState;
                });
                foreach (var (name, tensor) in state.Where(t => t.Key.StartsWith(CallbackPrefix, StringComparison.Ordinal)))
                {
                    var slash = name.IndexOf('/', CallbackPrefix.Length);
                    if (slash < 0)
                        throw new InvalidDataException($"{path}: {StateEntry} has a tensor '{name}' that names no callback (expected {CallbackPrefix}<callback>/<name>).");
                    var owner = name[CallbackPrefix.Length..slash];
                    if (!callbacks.TryGetValue(owner, out var callbackState)) callbacks[owner] = callbackState = new CallbackState();
                    callbackState.Tensors[name[(slash + 1)..]] = tensor;
                }
                if (!state.TryGetValue(RngKey, out var generator))
                    throw new InvalidDataException($"{path}: {StateEntry} has no random generator state; the file is incomplete.");
                GeneratorState.Validate(generator, path);
                return new Checkpoint(path, info, weights, optimizer, generator, callbacks);
            }
            catch
            {
                Dispose(weights.Values);
                if (state is not null) Dispose(state.Values);
                throw;
            }
        }
    }

    /// <summary>
    /// Puts the saved state into <paramref name="trainer"/>: weights, the optimizer's state (when the trainer
    /// has an optimizer of the same kind), the random generator and each callback's state. The optimizer's
    /// kind and every weight's key, shape and dtype are checked before anything changes; if a later step
    /// fails (an optimizer state or a callback's state that does not fit), the weights and the generator
    /// are put back as they were. Warnings go to <paramref name="logger"/> (the trainer's by default).
    /// Returns the epoch to go on from.
    /// </summary>
    public int RestoreInto(Trainer trainer, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        logger ??= trainer.Logger;
        var source = $"The checkpoint {Path} (epoch {EpochsCompleted})";
        var checkpointables = Checkpointables(trainer).ToList();
        var optimizer = trainer.Opt as OptimizerHelper;
        if (_optimizer is not null && optimizer is not null && optimizer.GetType().Name != Info.OptimizerType)
            throw new InvalidOperationException($"{source} holds the state of a {Info.OptimizerType} optimizer, but this trainer uses {optimizer.GetType().Name}; make the trainer with the same optimizer to resume.");

        using var weightsBefore = new Callbacks.WeightSnapshot();
        weightsBefore.Take(trainer.Model);
        using var rngBefore = random.get_rng_state();
        StateDicts.LoadInto(trainer.Model, _model, source); // checks every key and shape before copying any
        try
        {
            if (_optimizer is not null && optimizer is not null)
            {
                using var reader = new BinaryReader(new MemoryStream(_optimizer));
                try { optimizer.load_state_dict(reader); }
                catch (Exception e) when (e is EndOfStreamException or IOException or InvalidDataException or ArgumentException or InvalidOperationException or FormatException or OverflowException)
                {
                    // TorchSharp's reader echoes what it read; from damaged bytes that is binary noise, so only the kind of failure is kept.
                    throw new InvalidDataException($"{source}: its {OptimizerEntry} is damaged or not a {Info.OptimizerType} optimizer's state ({e.GetType().Name}); the weights and generator were left as they were.", e);
                }
            }
            random.set_rng_state(_rng);
            foreach (var (key, callback) in checkpointables)
                if (_callbacks.TryGetValue(key, out var state)) callback.RestoreState(state);
        }
        catch
        {
            weightsBefore.RestoreInto(trainer.Model);
            random.set_rng_state(rngBefore);
            throw;
        }
        var unknown = _callbacks.Keys.Except(checkpointables.Select(c => c.Key)).ToList();
        if (unknown.Count > 0)
            logger.LogWarning("{Message}", $"{source} holds state for callbacks this trainer does not have: {string.Join(", ", unknown)}; that state is ignored.");
        foreach (var (key, _) in checkpointables.Where(c => !_callbacks.ContainsKey(c.Key)))
            logger.LogWarning("{Message}", $"{source} has no state for callback '{key}'; it starts afresh.");
        return EpochsCompleted;
    }

    public void Dispose()
    {
        Dispose(_model.Values);
        _rng.Dispose();
        foreach (var state in _callbacks.Values) state.Dispose();
    }

    /// <summary>
    /// The epochs a trainer's last fit finished, as its records say (MetricsCB's, else TrackingCB's: a record
    /// is made as an epoch's last phase ends); <see cref="Trainer.Epoch"/> without records. An early stop
    /// after epoch 12 has finished 13 epochs, though the loop stopped at 12.
    /// </summary>
    public static int EpochsFinishedBy(Trainer trainer)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        var last = trainer.Callbacks.OfType<Callbacks.MetricsCB>().Select(m => m.Records)
            .Concat(trainer.Callbacks.OfType<Callbacks.TrackingCB>().Select(t => t.Epochs))
            .Where(records => records.Count > 0).Select(records => records[^1].Epoch + 1);
        return last.DefaultIfEmpty(trainer.Epoch).Max();
    }

    /// <summary>Each checkpointable callback by a key that tells apart two callbacks of one name: <c>Name</c>, <c>Name#2</c>.</summary>
    private static IEnumerable<(string Key, ICheckpointable Callback)> Checkpointables(Trainer trainer)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var callback in trainer.Callbacks)
        {
            if (callback is not ICheckpointable checkpointable) continue;
            int count = seen[callback.Name] = seen.GetValueOrDefault(callback.Name) + 1;
            yield return (count == 1 ? callback.Name : $"{callback.Name}#{count}", checkpointable);
        }
    }

    private static CheckpointInfo ReadInfo(ZipArchive zip, string path)
    {
        var info = ZipEntries.ReadJson<CheckpointInfo>(zip, InfoEntry, path, "an Isaacai checkpoint", Json);
        if (info.Format != FormatName)
            throw new InvalidDataException($"{path}: {InfoEntry} does not describe an Isaacai checkpoint (format '{info.Format}', expected '{FormatName}').");
        if (info.FormatVersion is > CurrentVersion or < 1)
            throw new InvalidDataException($"{path} is checkpoint format version {info.FormatVersion}; this Isaacai reads version {CurrentVersion}.");
        if (info.EpochsCompleted < 0)
            throw new InvalidDataException($"{path}: {InfoEntry} says {info.EpochsCompleted} epochs were completed; a count cannot be negative.");
        return info;
    }

    private static void Dispose(IEnumerable<Tensor> tensors)
    {
        foreach (var tensor in tensors) tensor.Dispose();
    }
}

/// <summary>What <c>checkpoint.json</c> says: format, versions, what was trained, epochs done, callbacks' numbers.</summary>
public sealed record CheckpointInfo(
    string Format, int FormatVersion, string CreatedBy, DateTimeOffset Created, string ModelType, string? OptimizerType,
    int EpochsCompleted, Dictionary<string, Dictionary<string, double>> Callbacks);
