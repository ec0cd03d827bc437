using System.Buffers.Binary;
using System.IO.Compression;

namespace Isaacai.Data;

/// <summary>An unsigned-byte IDX array: its dimensions and its data, row-major.</summary>
public sealed record IdxArray(int[] Dims, byte[] Data)
{
    public int Count => Dims[0];
    public int ItemSize => Data.Length / Math.Max(1, Dims[0]);
}

/// <summary>Reads and writes the IDX format of (Fashion-)MNIST, plain or gzipped.</summary>
public static class Idx
{
    private const byte UnsignedByte = 0x08;

    /// <summary>Reads an IDX file of unsigned bytes with <paramref name="expectedDims"/> dimensions, gzipped or not.</summary>
    public static IdxArray ReadFile(string path, int expectedDims)
    {
        using var file = File.OpenRead(path);
        bool gzipped = file.ReadByte() == 0x1f && file.ReadByte() == 0x8b;
        file.Position = 0;
        using Stream stream = gzipped ? new GZipStream(file, CompressionMode.Decompress) : file;
        try { return Read(stream, path, expectedDims); }
        catch (InvalidDataException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            // Our own errors name the file already; this one came from the gzip decoder.
            throw new InvalidDataException($"{path}: the gzip data is corrupt ({e.Message})", e);
        }
    }

    public static IdxArray Read(Stream stream, string source, int expectedDims)
    {
        Span<byte> header = stackalloc byte[4];
        ReadExactly(stream, header, source, "the 4-byte magic number");
        if (header[0] != 0 || header[1] != 0 || header[2] != UnsignedByte || header[3] != expectedDims)
            throw new InvalidDataException($"{source}: wrong magic number 0x{Convert.ToHexString(header)}; expected 0x0000080{expectedDims} (unsigned bytes, {expectedDims} dimension{(expectedDims == 1 ? "" : "s")}).");

        var dims = new int[expectedDims];
        long length = 1;
        for (int i = 0; i < expectedDims; i++)
        {
            ReadExactly(stream, header, source, $"dimension {i}");
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(header);
            if (dims[i] < 0) throw new InvalidDataException($"{source}: dimension {i} is negative ({dims[i]}).");
            length *= dims[i];
        }
        if (length > Array.MaxLength) throw new InvalidDataException($"{source}: {length} bytes of data is more than one array holds.");

        return new IdxArray(dims, ReadData(stream, (int)length, source, $"{length} data bytes for shape [{string.Join(", ", dims)}]"));
    }

    /// <summary>
    /// The header's size is only a claim: the buffer grows as bytes arrive, so a header claiming millions of
    /// images over a short file fails as truncated before allocating gigabytes.
    /// </summary>
    private static byte[] ReadData(Stream stream, int length, string source, string what)
    {
        const int FirstChunk = 1 << 24;
        var data = new byte[Math.Min(length, FirstChunk)];
        int total = 0;
        while (total < length)
        {
            if (total == data.Length) Array.Resize(ref data, (int)Math.Min(length, 2L * data.Length));
            int read = stream.Read(data, total, data.Length - total);
            if (read == 0) throw new InvalidDataException($"{source}: the file is truncated: it ends after {total} of {length} bytes of {what}.");
            total += read;
        }
        return data;
    }

    /// <summary>Writes through a temporary file, so a failure never leaves a half-written IDX file.</summary>
    public static void WriteFile(string path, IdxArray array)
    {
        var temporary = path + ".part";
        using (var file = File.Create(temporary))
        using (Stream stream = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionLevel.SmallestSize) : file)
        {
            Span<byte> word = stackalloc byte[4];
            stream.Write([0, 0, UnsignedByte, (byte)array.Dims.Length]);
            foreach (var dim in array.Dims)
            {
                BinaryPrimitives.WriteInt32BigEndian(word, dim);
                stream.Write(word);
            }
            stream.Write(array.Data);
        }
        File.Move(temporary, path, overwrite: true);
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string source, string what)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = stream.Read(buffer[total..]);
            if (read == 0) throw new InvalidDataException($"{source}: the file is truncated: it ends after {total} of {buffer.Length} bytes of {what}.");
            total += read;
        }
    }
}
