using System.IO.Compression;
using System.IO.Hashing;
using System.Text.Json;
using static TorchSharp.torch;

namespace Isaacai.SavedModels;

/// <summary>
/// Reading the entries of the library's zip files (models, checkpoints), with errors that name the file and
/// entry. Every entry is inflated to exactly its declared size, refused before inflating when that size is
/// beyond what the entry can hold, and checked against its CRC-32, so a changed byte is an error, not a
/// silently different model.
/// </summary>
internal static class ZipEntries
{
    /// <summary>The most a JSON entry (a manifest, a checkpoint's info) may inflate to.</summary>
    public const long MaxJsonBytes = 64L << 20;

    /// <summary>The entry's bytes, verified; <paramref name="maxBytes"/> bounds its declared size before anything is inflated.</summary>
    public static byte[] ReadVerified(ZipArchive zip, string name, string path, long maxBytes, string? what = null)
    {
        var entry = zip.GetEntry(name) ?? throw new InvalidDataException($"{path} has no {name}; the file is incomplete.");
        if (entry.Length > maxBytes || entry.Length > Array.MaxLength)
            throw new InvalidDataException($"{path}: {name} says it inflates to {entry.Length:N0} bytes, but {what ?? "it"} can hold at most {Math.Min(maxBytes, Array.MaxLength):N0}; it was not read (the file is damaged, or not what it claims).");
        var bytes = new byte[entry.Length];
        try
        {
            using var stream = entry.Open();
            stream.ReadExactly(bytes);
            if (stream.ReadByte() != -1) throw new InvalidDataException("it inflates to more than its declared size");
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
        {
            throw new InvalidDataException($"{path}: {name} is corrupt ({e.Message}).", e);
        }
        if (Crc32.HashToUInt32(bytes) != entry.Crc32)
            throw new InvalidDataException($"{path}: {name} is damaged: its CRC-32 does not match what the zip recorded (a changed or corrupted byte). Use an intact copy of the file.");
        return bytes;
    }

    /// <summary>The entry's JSON; <paramref name="kind"/> says what the file should be ("an Isaacai model file").</summary>
    public static T ReadJson<T>(ZipArchive zip, string name, string path, string kind, JsonSerializerOptions options) where T : class
    {
        if (zip.GetEntry(name) is null) throw new InvalidDataException($"{path} is a zip archive but not {kind}: it has no {name}.");
        var bytes = ReadVerified(zip, name, path, MaxJsonBytes, "a JSON entry");
        try
        {
            return JsonSerializer.Deserialize<T>(bytes, options) ?? throw new InvalidDataException($"{path}: {name} is empty (null).");
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or ArgumentException or NotSupportedException)
        {
            throw new InvalidDataException($"{path}: {name} cannot be read ({e.Message}).", e);
        }
    }

    /// <summary>
    /// Every tensor of a safetensors entry; the caller owns them. With <paramref name="maxBytes"/> (what the
    /// model's own weights take: <see cref="StateDicts.SafetensorsBound"/>), a larger entry is refused before inflating.
    /// </summary>
    public static Dictionary<string, Tensor> ReadSafetensors(ZipArchive zip, string name, string path, long? maxBytes = null)
    {
        var bytes = ReadVerified(zip, name, path, maxBytes ?? long.MaxValue, maxBytes is null ? null : "this model's weights");
        using var buffer = new MemoryStream(bytes, writable: false);
        return Safetensors.Read(buffer, $"{path} ({name})");
    }
}
