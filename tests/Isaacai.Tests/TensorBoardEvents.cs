using System.Buffers.Binary;
using System.Numerics;
using Tensorboard;

namespace Isaacai.Tests;

/// <summary>
/// Reads TensorBoard event files as TensorBoard does: TFRecord framing (a little-endian 64-bit length, its
/// masked CRC-32C, the bytes, their masked CRC-32C), every CRC checked, each record an Event protobuf parsed
/// with Google.Protobuf (the generated Event classes TorchSharp ships publicly).
/// </summary>
internal static class TensorBoardEvents
{
    /// <summary>Every event of one file, in order; a bad CRC or a cut-off record throws.</summary>
    public static List<Event> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var events = new List<Event>();
        int at = 0;
        while (at < bytes.Length)
        {
            if (bytes.Length - at < 12) throw new InvalidDataException($"{path}: a record header is cut off at byte {at}.");
            var header = bytes.AsSpan(at, 8);
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(header);
            Check(path, at, "length", header, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 8, 4)));
            if (length > (ulong)(bytes.Length - at - 16)) throw new InvalidDataException($"{path}: the record at byte {at} says {length} bytes, past the end of the file.");
            var data = bytes.AsSpan(at + 12, (int)length);
            Check(path, at, "data", data, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 12 + (int)length, 4)));
            events.Add(Event.Parser.ParseFrom(data.ToArray())); // TorchSharp's generated classes parse from a stream, not a span
            at += 16 + (int)length;
        }
        return events;
    }

    /// <summary>Every event file of a run's folder, in TensorBoard's order (by name: the names start with the time).</summary>
    public static List<Event> ReadFolder(string folder) =>
        Directory.GetFiles(folder, "events.out.tfevents.*").Order(StringComparer.Ordinal).SelectMany(Read).ToList();

    /// <summary>The scalar values of <paramref name="tag"/>: step and value, in the order written.</summary>
    public static List<(long Step, float Value)> Scalars(IEnumerable<Event> events, string tag) =>
        [.. events.Where(e => e.Summary is not null).SelectMany(e => e.Summary.Value.Where(v => v.Tag == tag && v.ValueCase == Summary.Types.Value.ValueOneofCase.SimpleValue)
            .Select(v => (e.Step, v.SimpleValue)))];

    public static List<(long Step, Summary.Types.Value Value)> Values(IEnumerable<Event> events, string tag) =>
        [.. events.Where(e => e.Summary is not null).SelectMany(e => e.Summary.Value.Where(v => v.Tag == tag).Select(v => (e.Step, v)))];

    private static void Check(string path, int at, string part, ReadOnlySpan<byte> bytes, uint stored)
    {
        uint masked = MaskedCrc32C(bytes);
        if (masked != stored) throw new InvalidDataException($"{path}: the {part} CRC of the record at byte {at} is 0x{stored:x8}; the bytes give 0x{masked:x8}.");
    }

    /// <summary>CRC-32C (Castagnoli), masked as TFRecord masks it: rotated right by 15 bits plus 0xa282ead8.</summary>
    public static uint MaskedCrc32C(ReadOnlySpan<byte> bytes)
    {
        uint crc = Crc32C(bytes);
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
    }

    public static uint Crc32C(ReadOnlySpan<byte> bytes)
    {
        uint crc = ~0u;
        foreach (var b in bytes) crc = BitOperations.Crc32C(crc, b);
        return ~crc;
    }
}
