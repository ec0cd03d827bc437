using System.IO.Compression;
using System.Text.Json;
using static TorchSharp.torch;

namespace Isaacai.SavedModels;

/// <summary>Reading the entries of the library's zip files (models, checkpoints), with errors that name the file and entry.</summary>
internal static class ZipEntries
{
    /// <summary>The entry's JSON; <paramref name="kind"/> says what the file should be ("an Isaacai model file").</summary>
    public static T ReadJson<T>(ZipArchive zip, string name, string path, string kind, JsonSerializerOptions options) where T : class
    {
        var entry = zip.GetEntry(name) ?? throw new InvalidDataException($"{path} is a zip archive but not {kind}: it has no {name}.");
        try
        {
            using var stream = entry.Open();
            return JsonSerializer.Deserialize<T>(stream, options) ?? throw new InvalidDataException($"{path}: {name} is empty (null).");
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or ArgumentException or NotSupportedException)
        {
            throw new InvalidDataException($"{path}: {name} cannot be read ({e.Message}).", e);
        }
    }

    /// <summary>Every tensor of a safetensors entry; the caller owns them.</summary>
    public static Dictionary<string, Tensor> ReadSafetensors(ZipArchive zip, string name, string path)
    {
        var entry = zip.GetEntry(name) ?? throw new InvalidDataException($"{path} has no {name}; the file is incomplete.");
        using var buffer = new MemoryStream();
        try { using var stream = entry.Open(); stream.CopyTo(buffer); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {name} is corrupt ({e.Message}).", e); }
        buffer.Position = 0;
        return Safetensors.Read(buffer, $"{path} ({name})");
    }
}
