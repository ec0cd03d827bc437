using System.Collections;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Isaacai.SavedModels;

/// <summary>
/// Weights as name → tensor maps (state dicts): read from safetensors or PyTorch files, written as
/// safetensors, and loaded into a model only once every key, shape and dtype has been checked, so a bad
/// file leaves the model as it was.
/// </summary>
public static class StateDicts
{
    /// <summary>
    /// Reads a state dict: safetensors, or a PyTorch <c>torch.save</c> file (.pt, .pth, .bin; the zip format
    /// PyTorch has written since 1.6), told apart by content. The caller owns the tensors.
    /// </summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        using var file = File.OpenRead(path);
        return Read(file, path);
    }

    public static Dictionary<string, Tensor> Read(Stream stream, string source)
    {
        if (IsZip(stream)) return ReadPyTorch(stream, source);
        int first = stream.ReadByte();
        stream.Position = 0;
        if (first == 0x80) // a pickle protocol opcode: PyTorch's legacy (pre-1.6) format
            throw new InvalidDataException($"{source}: a PyTorch file in the legacy format, which cannot be read here. Re-save it with PyTorch 1.6 or later (torch.save(model.state_dict(), path)), or as safetensors.");
        // A safetensors file starts with its header's length, then the header's opening brace.
        Span<byte> head = stackalloc byte[9];
        bool foreign = stream.ReadAtLeast(head, 9, throwOnEndOfStream: false) == 9 && head[8] != (byte)'{'; // shorter: truncated, said below
        stream.Position = 0;
        if (foreign)
            throw new InvalidDataException($"{source} is not a model file Isaacai reads: not an Isaacai model (.isaac), a safetensors file, or a PyTorch state dict saved by torch.save.");
        return Safetensors.Read(stream, source);
    }

    /// <summary>Whether the stream starts as a zip archive (torch.save's format, and ours); its position is left at 0.</summary>
    internal static bool IsZip(Stream stream)
    {
        Span<byte> magic = stackalloc byte[4];
        bool zip = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && magic.SequenceEqual("PK\u0003\u0004"u8);
        stream.Position = 0;
        return zip;
    }

    private static Dictionary<string, Tensor> ReadPyTorch(Stream stream, string source)
    {
        Hashtable table;
        try { table = PyTorchUnpickler.UnpickleStateDict(stream, leaveOpen: true); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{source}: not a PyTorch state dict that can be read here ({e.Message}). Save one with torch.save(model.state_dict(), path), or use safetensors.", e);
        }
        var result = new Dictionary<string, Tensor>();
        foreach (DictionaryEntry entry in table)
            if (entry.Key is string key && entry.Value is Tensor tensor) result[key] = tensor;
            else throw new InvalidDataException($"{source}: entry '{entry.Key}' is not a tensor; a state dict maps names to tensors.");
        return result;
    }

    /// <summary>
    /// The most bytes a safetensors file of <paramref name="model"/>'s weights can take: its tensors' bytes plus a
    /// generous header (names, dtypes, shapes). A file declaring more is not this model's.
    /// </summary>
    public static long SafetensorsBound(nn.Module model)
    {
        var state = model.state_dict();
        return 8 + (1L << 20) + state.Sum(p => 512L + p.Key.Length + p.Value.NumberOfElements * p.Value.ElementSize);
    }

    /// <summary>Writes the model's state dict as safetensors, which PyTorch reads with <c>safetensors.torch.load_file</c>.</summary>
    public static void WriteSafetensors(Stream stream, nn.Module model) => Safetensors.Write(stream, model.state_dict());

    /// <summary>
    /// Copies <paramref name="state"/> into <paramref name="model"/>. Every key must be in both, with the same
    /// shape and dtype; otherwise one error lists every difference and nothing is copied. Keys in
    /// <paramref name="skip"/> are left out on both sides (a pretrained model's head, sized for other classes):
    /// the model keeps its own tensors there.
    /// </summary>
    public static void LoadInto(nn.Module model, IReadOnlyDictionary<string, Tensor> state, string source, IReadOnlyCollection<string>? skip = null)
    {
        var expected = model.state_dict();
        if (skip is { Count: > 0 })
        {
            expected = new Dictionary<string, Tensor>(expected.Where(kv => !skip.Contains(kv.Key)));
            state = state.Where(kv => !skip.Contains(kv.Key)).ToDictionary();
        }
        var problems = new List<string>();
        var missing = expected.Keys.Where(k => !state.ContainsKey(k)).ToList();
        var extra = state.Keys.Where(k => !expected.ContainsKey(k)).ToList();
        if (missing.Count > 0) problems.Add($"missing from the file: {Names(missing)}");
        if (extra.Count > 0) problems.Add($"in the file but not in the model: {Names(extra)}");
        foreach (var (key, target) in expected)
        {
            if (!state.TryGetValue(key, out var loaded)) continue;
            if (!loaded.shape.SequenceEqual(target.shape))
                problems.Add($"'{key}' is [{string.Join(", ", loaded.shape)}] in the file but [{string.Join(", ", target.shape)}] in the model");
            else if (loaded.dtype != target.dtype)
                problems.Add($"'{key}' is {loaded.dtype} in the file but {target.dtype} in the model");
        }
        if (problems.Count > 0)
            throw new InvalidDataException($"{source} does not fit this {model.GetName()} model, so nothing was loaded: {string.Join("; ", problems)}.");
        using var _ = no_grad();
        foreach (var (key, target) in expected) target.copy_(state[key]);
    }

    private static string Names(List<string> keys) =>
        string.Join(", ", keys.Take(8).Select(k => $"'{k}'")) + (keys.Count > 8 ? $" and {keys.Count - 8} more" : "");
}
