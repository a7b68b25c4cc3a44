using System.Buffers.Binary;
using System.Text;
using Cedm.IO;
using FluentAssertions;

namespace Cedm.Tests.IO;

public class SafetensorsTests
{
    // ---------- fixtures written by the script's own writer (torch did the dtype conversions) ----------

    [Theory]
    [InlineData("mixed.safetensors")]
    [InlineData("no_metadata.safetensors")]
    public void Reads_fixture_exactly(string name)
    {
        var exp = IoFixtures.Expected.GetProperty("safetensors").GetProperty(name);
        SafetensorsFile f = Safetensors.Read(IoFixtures.PathOf(name));

        f.Metadata.Should().BeEquivalentTo(exp.GetProperty("metadata").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()));
        var tensors = exp.GetProperty("tensors").EnumerateObject().ToList();
        f.Tensors.Keys.Should().BeEquivalentTo(tensors.Select(t => t.Name));
        foreach (var t in tensors)
        {
            SafetensorsEntry e = f.Tensors[t.Name];
            e.Name.Should().Be(t.Name);
            e.DType.SafetensorsName().Should().Be(t.Value.GetProperty("dtype").GetString());
            e.Shape.Should().Equal(IoFixtures.Ints(t.Value.GetProperty("shape")), t.Name);
            IoAssert.Bits(e.Data).Should().Equal(t.Value.GetProperty("f32_bits").EnumerateArray().Select(v => v.GetUInt32()), t.Name);
            if (t.Value.TryGetProperty("ints", out var ints))
                e.IntegerData.Should().Equal(ints.EnumerateArray().Select(v => v.GetInt64()), t.Name);
            else
                e.IntegerData.Should().BeNull();
        }
    }

    [Fact]
    public void Writer_output_is_byte_identical_to_the_reference_layout()
    {
        // no_metadata.safetensors was written by the script's writer, which mirrors the reference one.
        var ms = new MemoryStream();
        Safetensors.Write(ms, [("w", new[] { 2, 3 }, new float[] { 0, 1, 2, 3, 4, 5 })]);
        ms.ToArray().Should().Equal(IoFixtures.Bytes("no_metadata.safetensors"));
    }

    // ---------- round trips ----------

    private static readonly float[] Specials =
        [0f, -0f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, float.Epsilon, -1.5f, 0.1f,
         1e-38f, 65504f, 65520f, BitConverter.UInt32BitsToSingle(0x3F808000), BitConverter.UInt32BitsToSingle(0x3F818000)];

    private static List<(string name, int[] shape, float[] data)> Sample() =>
    [
        ("weight", [2, 7], Specials),
        ("bias", [3], [1, 2, 3]),
        ("scalar", [], [42.5f]),
        ("empty", [0, 3], []),
        ("deep/x.y-z.\u00e9\u4e2d", [1, 1, 2, 1], [-7, 8]),
        ("ramp", [4, 25], Enumerable.Range(0, 100).Select(i => (i - 50) / 7f).ToArray()),
    ];

    private static readonly Dictionary<string, string> Meta = new()
    {
        ["format"] = "pt", ["step"] = "1000", ["note"] = "caf\u00e9 \"quoted\" \\ \n", ["empty"] = "",
    };

    [Theory]
    [InlineData(DType.F32)]
    [InlineData(DType.F16)]
    [InlineData(DType.BF16)]
    [InlineData(DType.F64)]
    public void Round_trips_through_a_file(DType dtype)
    {
        using var dir = new IoAssert.TempDir();
        string path = dir["m.safetensors"];
        Safetensors.Write(path, Sample(), Meta, dtype);
        Directory.GetFiles(dir.Path).Should().Equal(path);
        byte[] bytes = File.ReadAllBytes(path);
        long n = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        (n % 8).Should().Be(0, "header is padded so the data buffer is 8-byte aligned");

        SafetensorsFile f = Safetensors.Read(path);
        f.Metadata.Should().Equal(Meta);
        foreach (var (name, shape, data) in Sample())
        {
            SafetensorsEntry e = f.Tensors[name];
            e.DType.Should().Be(dtype);
            e.Shape.Should().Equal(shape);
            e.IntegerData.Should().BeNull();
            float[] expected = dtype switch
            {
                DType.F16 => data.Select(x => (float)(Half)x).ToArray(),
                DType.BF16 => data.Select(x => ElementConvert.BF16ToSingle(ElementConvert.SingleToBF16(x))).ToArray(),
                _ => data,
            };
            IoAssert.Bits(e.Data).Should().Equal(IoAssert.Bits(expected), name);
        }
    }

    [Fact]
    public void BF16_rounds_to_nearest_even_and_keeps_NaN()
    {
        ElementConvert.SingleToBF16(BitConverter.UInt32BitsToSingle(0x3F808000)).Should().Be(0x3F80); // tie → even
        ElementConvert.SingleToBF16(BitConverter.UInt32BitsToSingle(0x3F818000)).Should().Be(0x3F82); // tie → even
        ElementConvert.SingleToBF16(BitConverter.UInt32BitsToSingle(0x3F808001)).Should().Be(0x3F81);
        ElementConvert.SingleToBF16(float.MaxValue).Should().Be(0x7F80); // overflow → +Inf
        float.IsNaN(ElementConvert.BF16ToSingle(ElementConvert.SingleToBF16(BitConverter.UInt32BitsToSingle(0x7F800001)))).Should().BeTrue();
        ElementConvert.SingleToBF16(-0f).Should().Be(0x8000);
    }

    [Fact]
    public void Empty_file_and_no_metadata_round_trip()
    {
        var ms = new MemoryStream();
        Safetensors.Write(ms, []);
        ms.Position = 0;
        var f = Safetensors.Read(ms, "e.safetensors");
        f.Tensors.Should().BeEmpty();
        f.Metadata.Should().BeEmpty();
    }

    [Fact]
    public void Write_validates_arguments()
    {
        var ms = new MemoryStream();
        FluentActions.Invoking(() => Safetensors.Write(ms, [("a", [1], [1f]), ("a", [1], [2f])])).Should().Throw<ArgumentException>().WithMessage("*Duplicate*");
        FluentActions.Invoking(() => Safetensors.Write(ms, [("__metadata__", [1], [1f])])).Should().Throw<ArgumentException>().WithMessage("*reserved*");
        FluentActions.Invoking(() => Safetensors.Write(ms, [("a", [2, 2], [1f])])).Should().Throw<ArgumentException>().WithMessage("*needs 4 elements*");
        FluentActions.Invoking(() => Safetensors.Write(ms, [("a", [1], [1f])], null, DType.I32)).Should().Throw<ArgumentException>();
        ms.Length.Should().Be(0);
        using var dir = new IoAssert.TempDir();
        FluentActions.Invoking(() => Safetensors.Write(dir["x.safetensors"], [("a", [2], [1f])])).Should().Throw<ArgumentException>();
        Directory.GetFileSystemEntries(dir.Path).Should().BeEmpty();
    }

    // ---------- corrupted / hostile files ----------

    /// <summary>Builds a safetensors image from raw header text and a data buffer.</summary>
    private static byte[] File_(string header, int bufferBytes, ulong? declaredLength = null)
    {
        byte[] h = Encoding.UTF8.GetBytes(header);
        var b = new byte[8 + h.Length + bufferBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(b, declaredLength ?? (ulong)h.Length);
        h.CopyTo(b, 8);
        return b;
    }

    private static InvalidDataException Bad(byte[] file) =>
        IoAssert.Rejects("bad.safetensors", () => Safetensors.Read(new MemoryStream(file), "bad.safetensors"));

    private const string A = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    [Theory]
    [InlineData("{" + A + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap tensor 'a'")]
    [InlineData("{" + A + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 12, "outside the 12-byte data buffer")]
    [InlineData("{" + A + ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", 16, "hole")]
    [InlineData("{" + A + "}", 12, "use only 8")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "span 8 bytes, but shape (3) of F32 needs 12")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "end before they begin")]
    [InlineData("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2, "unknown or unsupported dtype 'F8_E4M3'")]
    [InlineData("{\"a\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unknown or unsupported dtype 'f32'")]
    [InlineData("{\"a\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "non-string 'dtype'")]
    [InlineData("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "missing or non-string 'dtype'")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, "'shape'")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "'data_offsets'")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", 8, "unexpected or repeated field 'x'")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8, "non-negative integers, found 2.0")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "non-negative integers")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8, "[begin, end]")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]}}", 8, "duplicate key 'a'")]
    [InlineData("{\"a\":[1,2]}", 0, "entry must be an object")]
    [InlineData("{\"__metadata__\":{\"k\":1}}", 0, "not a string")]
    [InlineData("{\"__metadata__\":[\"k\"]}", 0, "object of strings")]
    [InlineData("{\"__metadata__\":{\"k\":\"v\",\"k\":\"w\"}}", 0, "duplicate key 'k'")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8, "not valid JSON")]
    [InlineData("{\"a\" 1}", 0, "not valid JSON")]
    [InlineData("[1,2]", 0, "must start with '{'")]
    [InlineData("  {}", 0, "must start with '{'")]
    [InlineData("", 0, "must start with '{'")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1099511627776],\"data_offsets\":[0,8]}}", 8, "too many elements")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1073741824,1073741824],\"data_offsets\":[0,8]}}", 8, "too many elements")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[100000000],\"data_offsets\":[0,400000000]}}", 8, "outside the 8-byte data buffer")]
    public void Rejects_malformed_headers(string header, int bufferBytes, string part)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        Bad(File_(header, bufferBytes)).Message.Should().Contain(part);
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(1 << 20, "nothing big is allocated for a bad file");
    }

    [Fact]
    public void Rejects_invalid_UTF8_in_header_strings()
    {
        byte[] f = File_("{\"__metadata__\":{\"k\":\"ab\"}}", 0);
        f[8 + 22] = 0x9C; // lone continuation byte inside the value "ab"
        Bad(f).Message.Should().Contain("not valid UTF-8");
    }

    [Fact]
    public void Accepts_padding_zero_size_tensors_and_any_key_order()
    {
        string h = "{\"z\":{\"shape\":[0],\"data_offsets\":[8,8],\"dtype\":\"F16\"}," +
                   "\"a\":{\"data_offsets\":[0,8],\"dtype\":\"F32\",\"shape\":[2]},\"__metadata__\":{}}   \n\t ";
        var f = Safetensors.Read(new MemoryStream(File_(h, 8)), "ok.safetensors");
        f.Tensors["a"].Data.Should().Equal(0f, 0f);
        f.Tensors["z"].Shape.Should().Equal(0);
    }

    [Fact]
    public void Rejects_bad_header_lengths()
    {
        byte[] good = IoFixtures.Bytes("no_metadata.safetensors");
        byte[] b = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(b, ulong.MaxValue);
        Bad(b).Message.Should().Contain("exceeds");
        BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)good.Length);
        Bad(b).Message.Should().Contain("header length");
        BinaryPrimitives.WriteUInt64LittleEndian(b, 0);
        Bad(b).Message.Should().Contain("must start with '{'");
        // over the 100 MB cap, checked against the file size first and then the cap
        Bad(File_("{}", 0, declaredLength: 200_000_000)).Message.Should().Contain("exceeds");
    }

    [Theory]
    [InlineData("mixed.safetensors")]
    [InlineData("no_metadata.safetensors")]
    public void Every_truncation_throws_a_clear_error(string name)
    {
        byte[] full = IoFixtures.Bytes(name);
        for (int len = 0; len < full.Length; len++)
            IoAssert.Rejects(name, () => Safetensors.Read(new MemoryStream(full, 0, len), name));
        foreach (int len in new[] { 0, 7, 9, full.Length - 1 })
            IoAssert.Rejects(name, () => Safetensors.Read(new IoAssert.NonSeekable(new MemoryStream(full, 0, len)), name));
        Safetensors.Read(new IoAssert.NonSeekable(new MemoryStream(full)), name).Tensors.Should().NotBeEmpty();
    }

    [Fact]
    public void Random_byte_corruption_only_ever_gives_InvalidDataException()
    {
        var rng = new Random(99);
        byte[] good = IoFixtures.Bytes("mixed.safetensors");
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(good);
        for (int trial = 0; trial < 2000; trial++)
        {
            byte[] b = (byte[])good.Clone();
            int flips = 1 + rng.Next(3);
            for (int k = 0; k < flips; k++) b[rng.Next(0, headerEnd)] = (byte)rng.Next(32, 127);
            if (rng.Next(10) == 0) b[rng.Next(0, 8)] = (byte)rng.Next(256);
            try { Safetensors.Read(new MemoryStream(b), "fuzz.safetensors"); }
            catch (InvalidDataException e) { e.Message.Should().StartWith("fuzz.safetensors: "); }
        }
    }
}
