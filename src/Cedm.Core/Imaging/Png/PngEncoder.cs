using System.Buffers.Binary;
using System.IO.Compression;

namespace Cedm.Imaging.Png;

/// <summary>
/// PNG encoder for 8-bit gray (1 channel), gray+alpha (2), RGB (3) and RGBA (4) images given as interleaved
/// samples [Height, Width, Channels]. Writes IHDR, IDAT (zlib via <see cref="ZLibStream"/>) and IEND, non-interlaced.
/// Each scanline gets the filter with the smallest sum of absolute signed residuals, the heuristic the
/// PNG spec recommends (section 12.8).
/// </summary>
public static class PngEncoder
{
    // Large images are split into IDAT chunks of this size; any split is valid (section 11.2.4).
    private const int IdatChunkBytes = 1 << 20;

    public static byte[] Encode(PngImage image, CompressionLevel level = CompressionLevel.Optimal)
        => Encode(image.Pixels, image.Width, image.Height, image.Channels, level);

    /// <summary>Encodes <paramref name="pixels"/> [height, width, channels] (uint8) as a PNG file.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> pixels, int width, int height, int channels, CompressionLevel level = CompressionLevel.Optimal)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (channels is < 1 or > 4) throw new ArgumentOutOfRangeException(nameof(channels), channels, "expected 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA)");
        long expected = (long)width * height * channels;
        if (pixels.Length != expected)
            throw new ArgumentException($"pixels has {pixels.Length} bytes, expected {height}x{width}x{channels} = {expected}", nameof(pixels));

        var output = new MemoryStream();
        output.Write(PngDecoder.Signature);

        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr[4..], (uint)height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = channels switch { 1 => 0, 2 => 4, 3 => 2, _ => 6 }; // colour type, table 11.1
        // compression 0, filter method 0, interlace 0 (bytes 10..12 stay zero)
        WriteChunk(output, "IHDR"u8, ihdr);

        byte[] compressed = CompressScanlines(pixels, width, height, channels, level);
        for (int at = 0; at < compressed.Length; at += IdatChunkBytes)
            WriteChunk(output, "IDAT"u8, compressed.AsSpan(at, Math.Min(IdatChunkBytes, compressed.Length - at)));
        WriteChunk(output, "IEND"u8, []);
        return output.ToArray();
    }

    private static byte[] CompressScanlines(ReadOnlySpan<byte> pixels, int width, int height, int bpp, CompressionLevel level)
    {
        int stride = width * bpp;
        var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, level, leaveOpen: true))
        {
            var prior = new byte[stride];
            var candidate = new byte[1 + stride];
            var best = new byte[1 + stride];
            for (int y = 0; y < height; y++)
            {
                var row = pixels.Slice(y * stride, stride);
                long bestScore = long.MaxValue;
                for (int filter = 0; filter <= 4; filter++)
                {
                    long score = Filter(filter, row, prior, bpp, candidate);
                    if (score < bestScore) { bestScore = score; (best, candidate) = (candidate, best); }
                }
                z.Write(best);
                row.CopyTo(prior);
            }
        }
        return compressed.ToArray();
    }

    /// <summary>Writes filter byte + filtered row into <paramref name="dst"/>; returns the sum of |residual| as signed bytes.</summary>
    private static long Filter(int filter, ReadOnlySpan<byte> row, ReadOnlySpan<byte> prior, int bpp, Span<byte> dst)
    {
        dst[0] = (byte)filter;
        long score = 0;
        for (int i = 0; i < row.Length; i++)
        {
            int a = i >= bpp ? row[i - bpp] : 0, b = prior[i], c = i >= bpp ? prior[i - bpp] : 0;
            int predictor = filter switch { 0 => 0, 1 => a, 2 => b, 3 => (a + b) >> 1, _ => PngDecoder.Paeth(a, b, c) };
            byte residual = (byte)(row[i] - predictor);
            dst[1 + i] = residual;
            score += Math.Abs((int)(sbyte)residual);
        }
        return score;
    }

    private static void WriteChunk(Stream output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)data.Length);
        output.Write(word);
        output.Write(type);
        output.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Append(Crc32.Compute(type), data));
        output.Write(word);
    }
}
