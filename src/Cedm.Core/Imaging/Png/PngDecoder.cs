using System.Buffers.Binary;
using System.IO.Compression;

namespace Cedm.Imaging.Png;

/// <summary>
/// PNG decoder for every colour type and bit depth of the PNG specification (W3C, 2nd/3rd edition),
/// including palettes, tRNS transparency, 16-bit samples and Adam7 interlacing.
/// Untrusted input is expected: every chunk CRC is checked, chunk order is enforced (IHDR first, PLTE before
/// IDAT, IDAT contiguous, IEND last), unknown critical chunks are rejected, and the declared size is checked
/// against <see cref="PngDecoderOptions.MaxPixels"/> and against what the compressed data could possibly
/// hold before anything large is allocated. Decompression stops at the size the header implies, so a zip
/// bomb cannot grow memory. Every failure is an <see cref="InvalidDataException"/> naming the file.
/// </summary>
public static partial class PngDecoder
{
    /// <summary>The 8-byte PNG signature (section 5.2).</summary>
    public static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    // Deflate cannot expand by more than about 1032:1 (a 258-byte match costs at least 2 bits), so compressed
    // data shorter than expected/1032 cannot be valid; checking this first keeps tiny files that declare huge
    // images from allocating anything.
    private const long MaxDeflateRatio = 1032;

    public static PngImage DecodeFile(string path, PngDecoderOptions? options = null)
        => Decode(File.ReadAllBytes(path), path, options);

    /// <summary>Decodes a whole PNG file held in memory. <paramref name="name"/> is used in error messages.</summary>
    public static PngImage Decode(ReadOnlySpan<byte> file, string name = "PNG data", PngDecoderOptions? options = null)
    {
        options ??= PngDecoderOptions.Default;
        var chunks = ReadChunks(file, name, options);
        byte[] raw = Inflate(chunks, name);
        return Reconstruct(raw, chunks, name);
    }

    /// <summary>What the chunk pass collects: the header, palette, transparency and the concatenated IDAT data.</summary>
    private sealed class Chunks
    {
        public PngHeader Header;
        public byte[]? Palette;          // PLTE: RGB triples
        public byte[]? Transparency;     // tRNS: raw chunk data
        public byte[] ImageData = [];    // all IDAT data, in order
        public long ExpectedRawBytes;    // filter bytes + scanlines of every pass
    }

    private static InvalidDataException Error(string name, string message) => new($"{name}: not a valid PNG: {message}");

    // ---- Chunk layer (sections 5.3, 5.6) -------------------------------------------------------------------

    private static Chunks ReadChunks(ReadOnlySpan<byte> file, string name, PngDecoderOptions options)
    {
        if (file.Length < Signature.Length || !file[..Signature.Length].SequenceEqual(Signature))
            throw Error(name, "missing PNG signature (is it a PNG file?)");

        var result = new Chunks();
        var idat = new List<(int Offset, int Length)>();
        bool seenHeader = false, idatEnded = false;
        int pos = Signature.Length;
        while (true)
        {
            if (file.Length - pos < 12)
                throw Error(name, $"file is truncated at byte {file.Length} (no IEND chunk)");
            uint declared = BinaryPrimitives.ReadUInt32BigEndian(file[pos..]);
            var typeBytes = file.Slice(pos + 4, 4);
            string type = ChunkTypeName(typeBytes, name, pos);
            // Section 5.3: the length is at most 2^31 - 1; it must also fit in what is left of the file.
            if (declared > int.MaxValue || declared > (uint)(file.Length - pos - 12))
                throw Error(name, $"chunk {type} at byte {pos} declares {declared} bytes but only {Math.Max(0, file.Length - pos - 12)} remain (truncated or corrupt)");
            int length = (int)declared;
            var data = file.Slice(pos + 8, length);
            uint storedCrc = BinaryPrimitives.ReadUInt32BigEndian(file[(pos + 8 + length)..]);
            if (Crc32.Compute(file.Slice(pos + 4, 4 + length)) != storedCrc)
                throw Error(name, $"CRC mismatch in chunk {type} at byte {pos} (file is corrupt)");

            if (!seenHeader && type != "IHDR") throw Error(name, $"first chunk is {type}, expected IHDR");
            if (idat.Count > 0 && type != "IDAT") idatEnded = true;
            switch (type)
            {
                case "IHDR":
                    if (seenHeader) throw Error(name, "more than one IHDR chunk");
                    result.Header = ParseHeader(data, name, options);
                    result.ExpectedRawBytes = ExpectedRawBytes(result.Header);
                    seenHeader = true;
                    break;
                case "PLTE":
                    if (idat.Count > 0) throw Error(name, "PLTE after IDAT");
                    if (length % 3 != 0 || length == 0 || length > 256 * 3) throw Error(name, $"PLTE has {length} bytes, expected 3 to 768 in multiples of 3");
                    result.Palette = data.ToArray();
                    break;
                case "tRNS":
                    if (idat.Count > 0) throw Error(name, "tRNS after IDAT");
                    result.Transparency = data.ToArray();
                    break;
                case "IDAT":
                    if (idatEnded) throw Error(name, "IDAT chunks are not contiguous");
                    idat.Add((pos + 8, length));
                    break;
                case "IEND":
                    if (idat.Count == 0) throw Error(name, "no IDAT chunk");
                    result.ImageData = Concatenate(file, idat);
                    CheckAncillaryAgainstHeader(result, name);
                    return result;
                default:
                    // Bit 5 of the first byte set = ancillary (section 5.4): safe to skip; otherwise we must stop.
                    if ((typeBytes[0] & 0x20) == 0) throw Error(name, $"unknown critical chunk {type}");
                    break;
            }
            pos += 12 + length;
        }
    }

    private static string ChunkTypeName(ReadOnlySpan<byte> type, string name, int pos)
    {
        foreach (byte b in type)
            if (!((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z')))
                throw Error(name, $"invalid chunk type bytes at byte {pos + 4} (file is corrupt)");
        return System.Text.Encoding.ASCII.GetString(type);
    }

    private static PngHeader ParseHeader(ReadOnlySpan<byte> d, string name, PngDecoderOptions options)
    {
        if (d.Length != 13) throw Error(name, $"IHDR has {d.Length} bytes, expected 13");
        uint width = BinaryPrimitives.ReadUInt32BigEndian(d), height = BinaryPrimitives.ReadUInt32BigEndian(d[4..]);
        int bitDepth = d[8], colorType = d[9];
        if (width == 0 || height == 0 || width > int.MaxValue || height > int.MaxValue)
            throw Error(name, $"invalid size {width}x{height}");
        if ((long)width * height > options.MaxPixels)
            throw Error(name, $"declared size {width}x{height} exceeds the limit of {options.MaxPixels} pixels");
        if (!PngHeader.IsValidCombination(colorType, bitDepth))
            throw Error(name, $"invalid colour type {colorType} with bit depth {bitDepth}");
        if (d[10] != 0) throw Error(name, $"unknown compression method {d[10]}");
        if (d[11] != 0) throw Error(name, $"unknown filter method {d[11]}");
        if (d[12] > 1) throw Error(name, $"unknown interlace method {d[12]}");
        return new PngHeader((int)width, (int)height, bitDepth, colorType, d[12] == 1);
    }

    private static long ExpectedRawBytes(PngHeader h)
    {
        long total = 0;
        foreach (var pass in h.Interlaced ? InterlacePass.Adam7 : InterlacePass.None)
        {
            int w = pass.Width(h.Width), rows = pass.Height(h.Height);
            if (w > 0 && rows > 0) total += rows * (1 + h.RowBytes(w));
        }
        return total;
    }

    private static void CheckAncillaryAgainstHeader(Chunks c, string name)
    {
        var h = c.Header;
        if (h.ColorType == PngHeader.Palette && c.Palette is null) throw Error(name, "palette image without PLTE chunk");
        if (h.ColorType == PngHeader.Palette && c.Palette!.Length / 3 > 1 << h.BitDepth)
            throw Error(name, $"PLTE has {c.Palette.Length / 3} entries, more than bit depth {h.BitDepth} allows");
        if (c.Transparency is { } t)
        {
            bool ok = h.ColorType switch
            {
                PngHeader.Gray => t.Length == 2,
                PngHeader.Rgb => t.Length == 6,
                PngHeader.Palette => t.Length <= c.Palette!.Length / 3,
                _ => false, // colour types with alpha must not have tRNS (section 11.3.2.1)
            };
            if (!ok) throw Error(name, $"tRNS chunk of {t.Length} bytes does not fit colour type {h.ColorType}");
        }
        if (c.ExpectedRawBytes > int.MaxValue - 64)
            throw Error(name, $"declared size {h.Width}x{h.Height} needs {c.ExpectedRawBytes} bytes, more than one buffer can hold");
        if (c.ExpectedRawBytes > c.ImageData.Length * MaxDeflateRatio + 1024)
            throw Error(name, $"{c.ImageData.Length} bytes of compressed data cannot hold the declared {h.Width}x{h.Height} image (truncated or corrupt)");
    }

    private static byte[] Concatenate(ReadOnlySpan<byte> file, List<(int Offset, int Length)> parts)
    {
        long total = 0;
        foreach (var p in parts) total += p.Length;
        var all = new byte[total];
        int at = 0;
        foreach (var (offset, length) in parts)
        {
            file.Slice(offset, length).CopyTo(all.AsSpan(at));
            at += length;
        }
        return all;
    }

    // ---- zlib layer (section 10) ---------------------------------------------------------------------------

    private static byte[] Inflate(Chunks c, string name)
    {
        var raw = new byte[c.ExpectedRawBytes];
        int read;
        try
        {
            using var z = new ZLibStream(new MemoryStream(c.ImageData, writable: false), CompressionMode.Decompress);
            // Read exactly what the header implies and no more: trailing data is ignored, never buffered.
            read = z.ReadAtLeast(raw, raw.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException e)
        {
            throw Error(name, $"corrupt compressed image data ({e.Message})");
        }
        if (read < raw.Length)
            throw Error(name, $"image data ends after {read} of {raw.Length} bytes (truncated or corrupt)");
        return raw;
    }
}
