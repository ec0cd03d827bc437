using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace Isaacai.SavedModels;

/// <summary>
/// The safetensors format (Hugging Face's, read by PyTorch's <c>safetensors</c> package): an 8-byte
/// little-endian header length, a JSON header naming each tensor's dtype, shape and byte range, then the
/// raw little-endian bytes. Nothing in it runs code, unlike a pickle.
/// </summary>
public static class Safetensors
{
    private const long MaxHeaderBytes = 100_000_000;

    private static readonly Dictionary<string, ScalarType> Types = new()
    {
        ["F64"] = ScalarType.Float64, ["F32"] = ScalarType.Float32, ["F16"] = ScalarType.Float16, ["BF16"] = ScalarType.BFloat16,
        ["I64"] = ScalarType.Int64, ["I32"] = ScalarType.Int32, ["I16"] = ScalarType.Int16, ["I8"] = ScalarType.Int8,
        ["U8"] = ScalarType.Byte, ["BOOL"] = ScalarType.Bool,
    };

    public static void Write(Stream stream, IReadOnlyDictionary<string, Tensor> tensors)
    {
        var header = new Dictionary<string, object> { ["__metadata__"] = new Dictionary<string, string> { ["format"] = "pt" } };
        var contiguous = new List<Tensor>();
        try
        {
            long offset = 0;
            foreach (var (name, tensor) in tensors)
            {
                var code = Types.FirstOrDefault(t => t.Value == tensor.dtype).Key
                    ?? throw new ArgumentException($"Tensor '{name}' has dtype {tensor.dtype}, which safetensors does not hold here; supported: {string.Join(", ", Types.Values)}.");
                var data = tensor.detach().cpu().contiguous();
                contiguous.Add(data);
                long length = data.NumberOfElements * data.ElementSize;
                header[name] = new { dtype = code, shape = tensor.shape, data_offsets = new[] { offset, offset + length } };
                offset += length;
            }
            var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
            int padded = (json.Length + 7) / 8 * 8; // the format asks for the data to start 8-byte aligned
            Span<byte> size = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(size, (ulong)padded);
            stream.Write(size);
            stream.Write(json);
            for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
            foreach (var data in contiguous) stream.Write(data.bytes);
        }
        finally { foreach (var data in contiguous) data.Dispose(); }
    }

    /// <summary>Reads every tensor; <paramref name="source"/> names the file in errors. The caller owns the tensors.</summary>
    public static Dictionary<string, Tensor> Read(Stream stream, string source)
    {
        Span<byte> size = stackalloc byte[8];
        ReadExactly(stream, size, source, "the 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(size);
        if (headerLength == 0 || headerLength > MaxHeaderBytes || (stream.CanSeek && (long)headerLength > stream.Length - 8))
            throw new InvalidDataException($"{source}: not a safetensors file (its first 8 bytes give a header length of {headerLength}, beyond the file).");
        var headerBytes = new byte[headerLength];
        ReadExactly(stream, headerBytes, source, "the JSON header");

        var entries = new List<(string Name, ScalarType Type, long[] Shape, long Begin, long End)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            using var header = JsonDocument.Parse(headerBytes);
            foreach (var property in header.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__") continue;
                var entry = property.Value;
                var dtype = entry.GetProperty("dtype").GetString() ?? "";
                if (!Types.TryGetValue(dtype, out var type))
                    throw new InvalidDataException($"{source}: tensor '{property.Name}' has dtype '{dtype}'; supported: {string.Join(", ", Types.Keys)}.");
                var shape = entry.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                var offsets = entry.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                if (shape.Any(d => d < 0) || offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0])
                    throw new InvalidDataException($"{source}: tensor '{property.Name}' has a bad shape or byte range.");
                // Checked before anything is allocated: a corrupt shape must not ask for terabytes.
                long expected;
                try { expected = shape.Aggregate(SizeOf(type), (n, d) => checked(n * d)); }
                catch (OverflowException) { expected = -1; }
                if (expected != offsets[1] - offsets[0])
                    throw new InvalidDataException($"{source}: tensor '{property.Name}' ({type} [{string.Join(", ", shape)}]) needs {(expected < 0 ? "more than 2^63" : expected)} bytes; its byte range holds {offsets[1] - offsets[0]}.");
                if (!names.Add(property.Name))
                    throw new InvalidDataException($"{source}: tensor '{property.Name}' appears twice in the header.");
                entries.Add((property.Name, type, shape, offsets[0], offsets[1]));
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{source}: the safetensors header is not valid JSON of tensor entries ({e.Message}).", e);
        }

        // The format lays tensors end to end: byte ranges that overlap or leave gaps describe no real file.
        long dataLength = 0;
        foreach (var entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (entry.Begin != dataLength)
                throw new InvalidDataException($"{source}: tensor '{entry.Name}' starts at byte {entry.Begin} of the data, but the tensors before it end at {dataLength}: byte ranges that {(entry.Begin < dataLength ? "overlap" : "leave a gap")} are not a valid safetensors file.");
            dataLength = entry.End;
        }
        if (stream.CanSeek && dataLength > stream.Length - stream.Position)
            throw new InvalidDataException($"{source}: the file is truncated: its header describes {dataLength} bytes of tensor data, but {stream.Length - stream.Position} follow.");
        var data = new byte[dataLength];
        ReadExactly(stream, data, source, $"{dataLength} bytes of tensor data");

        var tensors = new Dictionary<string, Tensor>();
        try
        {
            foreach (var (name, type, shape, begin, end) in entries)
            {
                var tensor = empty(shape, type);
                tensors.Add(name, tensor);
                long expected = tensor.NumberOfElements * tensor.ElementSize;
                if (end - begin != expected)
                    throw new InvalidDataException($"{source}: tensor '{name}' ({type} [{string.Join(", ", shape)}]) needs {expected} bytes; its byte range holds {end - begin}.");
                data.AsSpan((int)begin, (int)expected).CopyTo(tensor.bytes);
            }
            return tensors;
        }
        catch
        {
            foreach (var tensor in tensors.Values) tensor.Dispose();
            throw;
        }
    }

    private static long SizeOf(ScalarType type) => type switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1, // I8, U8, BOOL
    };

    private static void ReadExactly(Stream stream, Span<byte> buffer, string source, string what)
    {
        try { stream.ReadExactly(buffer); }
        catch (EndOfStreamException e) { throw new InvalidDataException($"{source}: the file is truncated: it ends inside {what}.", e); }
    }
}
