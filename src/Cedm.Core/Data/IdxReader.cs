using System.Buffers.Binary;
using System.IO.Compression;

namespace Cedm.Data;

/// <summary>
/// Reads unsigned-byte IDX files (the MNIST / Fashion-MNIST format: a big-endian magic 0x00 0x00 0x08 ndim,
/// then ndim big-endian int32 sizes, then the data, row-major), gzip-compressed when the name ends in .gz.
/// </summary>
public static class IdxReader
{
    private const byte UnsignedByteType = 0x08;

    /// <summary>Reads the whole array; returns its bytes and its shape.</summary>
    public static (byte[] Data, int[] Shape) ReadUInt8(string path)
    {
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
            ? new GZipStream(file, CompressionMode.Decompress)
            : file;
        try
        {
            return ReadUInt8(stream, path);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{path}: IDX file is truncated");
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            // GZipStream's own errors (bad header, corrupt deflate data, CRC) do not say which file.
            throw new InvalidDataException($"{path}: corrupt gzip data ({e.Message})", e);
        }
    }

    private static (byte[] Data, int[] Shape) ReadUInt8(Stream stream, string path)
    {
        Span<byte> magic = stackalloc byte[4];
        stream.ReadExactly(magic);
        if (magic[0] != 0 || magic[1] != 0 || magic[2] != UnsignedByteType || magic[3] is < 1 or > 4)
            throw new InvalidDataException($"{path}: not an unsigned-byte IDX file (magic {Convert.ToHexString(magic)}, expected 000008 and 1..4 dimensions)");
        var shape = new int[magic[3]];
        Span<byte> word = stackalloc byte[4];
        long total = 1;
        for (int d = 0; d < shape.Length; d++)
        {
            stream.ReadExactly(word);
            shape[d] = BinaryPrimitives.ReadInt32BigEndian(word);
            if (shape[d] < 0) throw new InvalidDataException($"{path}: negative dimension {shape[d]}");
            total *= shape[d];
            if (total > Array.MaxLength) throw new InvalidDataException($"{path}: declared shape ({string.Join(", ", shape)}) is too large");
        }
        var data = new byte[total];
        stream.ReadExactly(data);
        return (data, shape);
    }
}
