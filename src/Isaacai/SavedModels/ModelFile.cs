using System.IO.Compression;
using System.Text.Json;
using Isaacai.Inference;
using Isaacai.IO;
using static TorchSharp.torch;

namespace Isaacai.SavedModels;

/// <summary>
/// A trained model in one file: a zip of <c>manifest.json</c> (format version, architecture, target,
/// preprocessing of rows or images) and <c>weights.safetensors</c>. Open it with any zip tool; PyTorch reads the weights.
/// </summary>
public static class ModelFile
{
    public const string Extension = ".isaac", ManifestEntry = "manifest.json", WeightsEntry = "weights.safetensors";

    private static readonly JsonSerializerOptions Json = new(Models.ModelArchitecture.Json) { WriteIndented = true };

    /// <summary>
    /// Writes <paramref name="predictor"/> to <paramref name="path"/> atomically: into a temporary file in the
    /// same folder, flushed to disk, then renamed over the target, so a failure never leaves half a file.
    /// </summary>
    public static void Save(string path, Predictor predictor)
    {
        ArgumentNullException.ThrowIfNull(predictor);
        var manifest = new ModelManifest(ModelManifest.FormatName, ModelManifest.CurrentVersion,
            $"Isaacai {typeof(ModelFile).Assembly.GetName().Version}", DateTimeOffset.UtcNow,
            predictor.Model.GetType().FullName ?? predictor.Model.GetName(), predictor.Architecture, predictor.Target, predictor.Processor, predictor.Images);
        AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            using (var entry = zip.CreateEntry(ManifestEntry).Open()) JsonSerializer.Serialize(entry, manifest, Json);
            using (var entry = zip.CreateEntry(WeightsEntry, CompressionLevel.Fastest).Open()) StateDicts.WriteSafetensors(entry, predictor.Model);
        });
    }

    /// <summary>Writes just the weights as safetensors, for PyTorch (<c>safetensors.torch.load_file</c>), atomically.</summary>
    public static void SaveWeights(string path, nn.Module model) => AtomicFile.Write(path, stream => StateDicts.WriteSafetensors(stream, model));

    /// <summary>
    /// Reads a saved model. The library's own architectures are rebuilt from the file; a model of your own
    /// is passed as <paramref name="model"/> (a fresh instance of the same architecture) and receives the
    /// weights. Plain weights (safetensors, or a PyTorch state dict) load into <paramref name="model"/> too,
    /// as a predictor of raw outputs, since such files say nothing of the target.
    /// </summary>
    public static Predictor Load(string path, nn.Module<Tensor, Tensor>? model = null)
    {
        if (Directory.Exists(path))
            throw new ArgumentException($"{path} is a folder; give the path of a model file ({Extension}, .safetensors, or a PyTorch state dict such as .pt).", nameof(path));
        using var file = File.OpenRead(path);
        if (!StateDicts.IsZip(file)) return LoadWeights(file, path, model);
        ZipArchive zip;
        try { zip = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path} is not an Isaacai model file: its zip archive is damaged or truncated ({e.Message}).", e); }
        using (zip)
        {
            if (zip.GetEntry(ManifestEntry) is null && zip.Entries.Any(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal)))
            {
                zip.Dispose();
                file.Position = 0;
                return LoadWeights(file, path, model); // torch.save's zip
            }
            var manifest = ReadManifest(zip, path);
            var target = model ?? manifest.Architecture?.Build()
                ?? throw new ArgumentException($"{path} holds a model of your own ({manifest.ModelType}), which the file cannot rebuild: pass a new instance of it as the model to load the weights into.");
            try
            {
                LoadInto(target, ZipEntries.ReadSafetensors(zip, WeightsEntry, path, StateDicts.SafetensorsBound(target)), path);
                var predictor = new Predictor(target, manifest.Target, manifest.Preprocessing, manifest.Images);
                predictor.CheckModelFitsInputs(path);
                return predictor;
            }
            catch when (model is null)
            {
                target.Dispose(); // built here from the manifest: nobody else holds its native memory
                throw;
            }
        }
    }

    private static Predictor LoadWeights(Stream stream, string path, nn.Module<Tensor, Tensor>? model)
    {
        var state = StateDicts.Read(stream, path);
        if (model is null)
        {
            foreach (var tensor in state.Values) tensor.Dispose();
            throw new ArgumentException($"{path} holds only weights ({state.Count} tensors), not a model: pass a new instance of the model they belong to.");
        }
        LoadInto(model, state, path);
        return new Predictor(model);
    }

    private static void LoadInto(nn.Module model, Dictionary<string, Tensor> state, string path)
    {
        try { StateDicts.LoadInto(model, state, path); }
        finally { foreach (var tensor in state.Values) tensor.Dispose(); }
    }

    private static ModelManifest ReadManifest(ZipArchive zip, string path)
    {
        var manifest = ZipEntries.ReadJson<ModelManifest>(zip, ManifestEntry, path, "an Isaacai model file", Json);
        if (manifest.Format != ModelManifest.FormatName)
            throw new InvalidDataException($"{path}: {ManifestEntry} does not describe an Isaacai model (format '{manifest.Format}', expected '{ModelManifest.FormatName}').");
        if (manifest.FormatVersion > ModelManifest.CurrentVersion || manifest.FormatVersion < 1)
            throw new InvalidDataException($"{path} is format version {manifest.FormatVersion}; this Isaacai reads version {ModelManifest.CurrentVersion}. Update Isaacai to read it.");
        if (manifest.Preprocessing is { } preprocessing && manifest.Target is { } target && !target.Equals(preprocessing.Target))
            throw new InvalidDataException($"{path}: {ManifestEntry} names two different targets ({target} at the top, {preprocessing.Target} in the preprocessing); a model has one.");
        if (manifest.Preprocessing is not null && manifest.Images is not null)
            throw new InvalidDataException($"{path}: {ManifestEntry} has both a table's preprocessing and an image pipeline; a model takes one kind of input.");
        return manifest;
    }
}
