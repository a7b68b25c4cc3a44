using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using Cedm.Imaging.Png;
using FluentAssertions;

namespace Cedm.Tests.Imaging.Png;

/// <summary>
/// Broken and hostile files: every failure must be an <see cref="InvalidDataException"/> that names the file,
/// quickly, and without allocating more than the header can justify.
/// </summary>
public class PngCorruptionTests
{
    private const string Name = "bad.png";

    private static byte[] Chunk(string type, ReadOnlySpan<byte> data)
    {
        var c = new byte[12 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(c, (uint)data.Length);
        System.Text.Encoding.ASCII.GetBytes(type).CopyTo(c, 4);
        data.CopyTo(c.AsSpan(8));
        BinaryPrimitives.WriteUInt32BigEndian(c.AsSpan(8 + data.Length), Crc32.Compute(c.AsSpan(4, 4 + data.Length)));
        return c;
    }

    private static byte[] Ihdr(uint width, uint height, byte depth = 8, byte colorType = 0, byte interlace = 0)
    {
        var d = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(d, width);
        BinaryPrimitives.WriteUInt32BigEndian(d.AsSpan(4), height);
        d[8] = depth; d[9] = colorType; d[12] = interlace;
        return Chunk("IHDR", d);
    }

    private static byte[] Zlib(byte[] raw)
    {
        var ms = new MemoryStream();
        using (var z = new ZLibStream(ms, CompressionLevel.Optimal, leaveOpen: true)) z.Write(raw);
        return ms.ToArray();
    }

    private static byte[] Png(params byte[][] chunks) => [.. PngDecoder.Signature, .. chunks.SelectMany(c => c)];

    private static byte[] Iend => Chunk("IEND", []);

    /// <summary>A 3x2 gray image, rows filtered with type 0.</summary>
    private static byte[] ValidIdat => Chunk("IDAT", Zlib([0, 1, 2, 3, 0, 4, 5, 6]));

    private static void ShouldFail(byte[] file, string messagePart)
    {
        var act = () => PngDecoder.Decode(file, Name);
        act.Should().Throw<InvalidDataException>().Where(e => e.Message.StartsWith(Name + ":") && e.Message.Contains(messagePart));
    }

    [Fact]
    public void TheHandMadeValidFileDecodes()
        => PngDecoder.Decode(Png(Ihdr(3, 2), ValidIdat, Iend), Name).Pixels.Should().Equal(1, 2, 3, 4, 5, 6);

    [Fact] public void NotAPng() => ShouldFail("\xFF\xD8\xFF\xE0 JFIF"u8.ToArray(), "signature");
    [Fact] public void EmptyFile() => ShouldFail([], "signature");
    [Fact] public void IhdrNotFirst() => ShouldFail(Png(ValidIdat, Ihdr(3, 2), Iend), "expected IHDR");
    [Fact] public void MissingIend() => ShouldFail(Png(Ihdr(3, 2), ValidIdat), "no IEND");
    [Fact] public void MissingIdat() => ShouldFail(Png(Ihdr(3, 2), Iend), "no IDAT");
    [Fact] public void UnknownCriticalChunk() => ShouldFail(Png(Ihdr(3, 2), Chunk("ABCD", [1]), ValidIdat, Iend), "unknown critical chunk ABCD");
    [Fact] public void UnknownAncillaryChunkIsSkipped() => PngDecoder.Decode(Png(Ihdr(3, 2), Chunk("abCD", [1]), ValidIdat, Iend)).Width.Should().Be(3);
    [Fact] public void ZeroWidth() => ShouldFail(Png(Ihdr(0, 2), ValidIdat, Iend), "invalid size");
    [Fact] public void BadDepthForColourType() => ShouldFail(Png(Ihdr(3, 2, depth: 4, colorType: 2), ValidIdat, Iend), "bit depth 4");
    [Fact] public void BadInterlaceMethod() => ShouldFail(Png(Ihdr(3, 2, interlace: 2), ValidIdat, Iend), "interlace");
    [Fact] public void BadFilterType() => ShouldFail(Png(Ihdr(3, 2), Chunk("IDAT", Zlib([5, 1, 2, 3, 0, 4, 5, 6])), Iend), "filter type 5");
    [Fact] public void ShortImageData() => ShouldFail(Png(Ihdr(3, 2), Chunk("IDAT", Zlib([0, 1, 2, 3])), Iend), "ends after 4 of 8 bytes");
    [Fact] public void CorruptDeflateData() => ShouldFail(Png(Ihdr(3, 2), Chunk("IDAT", [0x78, 0x9C, 0xFF, 0xFF, 0xFF, 0xFF]), Iend), "compressed");
    [Fact] public void IdatNotContiguous() => ShouldFail(Png(Ihdr(3, 2), ValidIdat, Chunk("tEXt", [65, 0, 66]), ValidIdat, Iend), "not contiguous");
    [Fact] public void PaletteWithoutPlte() => ShouldFail(Png(Ihdr(3, 2, colorType: 3), ValidIdat, Iend), "without PLTE");
    [Fact] public void PaletteIndexOutOfRange() => ShouldFail(Png(Ihdr(3, 2, colorType: 3), Chunk("PLTE", [1, 2, 3, 4, 5, 6]), ValidIdat, Iend), "palette index");
    [Fact] public void TrnsOnRgba() => ShouldFail(Png(Ihdr(3, 2, colorType: 6), Chunk("tRNS", [0, 0]), ValidIdat, Iend), "tRNS");

    [Fact]
    public void BadCrc()
    {
        byte[] file = Png(Ihdr(3, 2), ValidIdat, Iend);
        file[8 + 8 + 5] ^= 0x01; // inside the IHDR data
        ShouldFail(file, "CRC mismatch in chunk IHDR");
    }

    [Fact]
    public void ChunkLengthBeyondTheFile()
    {
        byte[] file = Png(Ihdr(3, 2), ValidIdat, Iend);
        BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan(8 + 25), 0x7FFFFFF0); // the IDAT length
        ShouldFail(file, "declares 2147483632 bytes");
        BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan(8 + 25), 0xFFFFFFFF);
        ShouldFail(file, "declares 4294967295 bytes");
    }

    [Fact]
    public void HugeDeclaredSizeIsRejectedBeforeAllocating()
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        ShouldFail(Png(Ihdr(1_000_000, 1_000_000), ValidIdat, Iend), "exceeds the limit");
        // 16384 x 16384 RGBA 16-bit is within the pixel limit but 2 GiB of data that 20 bytes cannot hold.
        ShouldFail(Png(Ihdr(16384, 16384, depth: 16, colorType: 6), ValidIdat, Iend), "more than one buffer");
        ShouldFail(Png(Ihdr(8000, 8000), ValidIdat, Iend), "cannot hold");
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(1 << 20);
    }

    [Fact]
    public void ZipBombStopsAtTheDeclaredSize()
    {
        // 64 MiB of zeros compress to about 64 KiB; the header says 100x100 gray (10,100 raw bytes).
        byte[] bomb = Zlib(new byte[64 << 20]);
        byte[] file = Png(Ihdr(100, 100), Chunk("IDAT", bomb), Iend);
        var clock = Stopwatch.StartNew();
        long before = GC.GetAllocatedBytesForCurrentThread();
        var image = PngDecoder.Decode(file, Name);
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(2 << 20);
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2));
        image.Pixels.Should().OnlyContain(b => b == 0);
    }

    /// <summary>
    /// Deterministic fuzzing (seed 20240611) of fixtures of several colour types: truncations at many
    /// offsets, random byte flips (mostly caught by CRC), and flips inside chunk data with the CRC
    /// recomputed, so the header, palette, zlib and filter checks are reached too.
    /// </summary>
    [Theory]
    [InlineData("rgb8")]
    [InlineData("palette8_trns")]
    [InlineData("rgba16_adam7")]
    [InlineData("gray2")]
    public void FuzzedFilesFailCleanly(string fixture)
    {
        byte[] valid = File.ReadAllBytes(Path.Combine(PngFixtures.Folder, fixture + ".png"));
        var rng = new Random(20240611);
        var clock = Stopwatch.StartNew();
        int failures = 0;

        void Check(byte[] file)
        {
            try { PngDecoder.Decode(file, Name); }
            catch (InvalidDataException e) when (e.Message.StartsWith(Name + ": not a valid PNG")) { failures++; }
        }

        for (int cut = 0; cut < valid.Length; cut += 3) Check(valid[..cut]);
        for (int i = 0; i < 300; i++)
        {
            byte[] file = (byte[])valid.Clone();
            file[rng.Next(file.Length)] ^= (byte)(1 << rng.Next(8));
            Check(file);
        }
        var chunks = ChunkSpans(valid);
        for (int i = 0; i < 1500; i++)
        {
            byte[] file = (byte[])valid.Clone();
            var (offset, length) = chunks[rng.Next(chunks.Count)];
            if (length == 0) continue;
            int flips = 1 + rng.Next(3);
            for (int f = 0; f < flips; f++)
                file[offset + 8 + rng.Next(length)] = rng.Next(2) == 0 ? (byte)rng.Next(256) : (byte)(file[offset + 8 + rng.Next(length)] ^ 0x80);
            BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan(offset + 8 + length), Crc32.Compute(file.AsSpan(offset + 4, 4 + length)));
            Check(file);
        }
        failures.Should().BeGreaterThan(500);
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10));
    }

    private static List<(int Offset, int Length)> ChunkSpans(byte[] png)
    {
        var spans = new List<(int, int)>();
        for (int pos = 8; pos + 12 <= png.Length;)
        {
            int length = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos));
            spans.Add((pos, length));
            pos += 12 + length;
        }
        return spans;
    }
}
