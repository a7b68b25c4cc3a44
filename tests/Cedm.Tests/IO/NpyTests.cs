using System.Buffers.Binary;
using System.Text;
using Cedm.IO;
using FluentAssertions;

namespace Cedm.Tests.IO;

public class NpyTests
{
    // ---------- NumPy-written fixtures ----------

    public static TheoryData<string> FixtureNames()
    {
        var d = new TheoryData<string>();
        foreach (var p in IoFixtures.Expected.GetProperty("npy").EnumerateObject()) d.Add(p.Name);
        return d;
    }

    [Theory]
    [MemberData(nameof(FixtureNames))]
    public void Reads_numpy_fixture_exactly(string name)
    {
        var exp = IoFixtures.Expected.GetProperty("npy").GetProperty(name);
        NpyArray a = Npy.Read(IoFixtures.PathOf(name));

        string descr = exp.GetProperty("descr").GetString()!;
        DTypes.TryParseNumpyCode(descr[1..], out DType dt).Should().BeTrue();
        a.DType.Should().Be(dt);
        a.Shape.Should().Equal(IoFixtures.Ints(exp.GetProperty("shape")));

        var values = exp.GetProperty("values").EnumerateArray().ToArray();
        a.Count.Should().Be(values.Length);
        if (dt.IsFloat())
            FloatBits(a).Should().Equal(values.Select(v => v.GetUInt64()));
        else
            a.ToInt64().Should().Equal(values.Select(v => v.GetInt64()));
    }

    private static ulong[] FloatBits(NpyArray a) => a.Data switch
    {
        Half[] h => h.Select(x => (ulong)BitConverter.HalfToUInt16Bits(x)).ToArray(),
        float[] f => f.Select(x => (ulong)BitConverter.SingleToUInt32Bits(x)).ToArray(),
        double[] d => d.Select(BitConverter.DoubleToUInt64Bits).ToArray(),
        _ => throw new InvalidOperationException(),
    };

    [Theory]
    [MemberData(nameof(FixtureNames))]
    public void Writes_the_same_bytes_as_np_save(string name)
    {
        // np.save uses version 1.0 and native order, so only those fixtures are byte-for-byte comparable.
        if (name.StartsWith("v2_") || name.StartsWith("v3_") || name.StartsWith("be_")) return;
        NpyArray a = Npy.Read(IoFixtures.PathOf(name));
        var ms = new MemoryStream();
        Npy.Write(ms, a);
        ms.ToArray().Should().Equal(IoFixtures.Bytes(name));
    }

    [Fact]
    public void Version_2_and_big_endian_fixtures_match_their_v1_twins()
    {
        foreach (var code in new[] { "b1", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "f2", "f4", "f8" })
        {
            var v1 = Npy.Read(IoFixtures.PathOf($"v1_{code}.npy"));
            var v2 = Npy.Read(IoFixtures.PathOf($"v2_{code}.npy"));
            v2.DType.Should().Be(v1.DType);
            RawBytesOf(v2).Should().Equal(RawBytesOf(v1));
        }
        RawBytesOf(Npy.Read(IoFixtures.PathOf("be_f4.npy"))).Should().Equal(RawBytesOf(Npy.Read(IoFixtures.PathOf("v1_f4.npy"))));
        Npy.Read(IoFixtures.PathOf("be_i8.npy")).ToInt64().Should().Equal(Npy.Read(IoFixtures.PathOf("v1_i8.npy")).ToInt64());
        Npy.Read(IoFixtures.PathOf("v3_f4.npy")).ToFloat32().Should().Equal(Npy.Read(IoFixtures.PathOf("v1_f4.npy")).ToFloat32());
    }

    private static byte[] RawBytesOf(NpyArray a)
    {
        var ms = new MemoryStream();
        Npy.Write(ms, a);
        return ms.ToArray()[128..]; // all these headers pad to 128 bytes
    }

    [Fact]
    public void Scalar_and_empty_fixtures_have_the_right_shapes()
    {
        var s = Npy.Read(IoFixtures.PathOf("scalar_f8.npy"));
        s.Shape.Should().BeEmpty();
        s.As<double>().Should().Equal(2.5);
        var e = Npy.Read(IoFixtures.PathOf("empty_0x3_f4.npy"));
        e.Shape.Should().Equal(0, 3);
        e.Count.Should().Be(0);
        Npy.Read(IoFixtures.PathOf("empty_3x0x2_i8.npy")).Shape.Should().Equal(3, 0, 2);
    }

    public static TheoryData<string> RejectedNames()
    {
        var d = new TheoryData<string>();
        foreach (var p in IoFixtures.Expected.GetProperty("npy_rejected").EnumerateObject()) d.Add(p.Name);
        return d;
    }

    [Theory]
    [MemberData(nameof(RejectedNames))]
    public void Rejects_unsupported_numpy_files_with_a_clear_message(string name)
    {
        string part = IoFixtures.Expected.GetProperty("npy_rejected").GetProperty(name).GetString()!;
        var e = IoAssert.Rejects(IoFixtures.PathOf(name), () => Npy.Read(IoFixtures.PathOf(name)));
        e.Message.Should().Contain(part);
    }

    [Fact]
    public void Fortran_message_tells_how_to_fix_it()
    {
        var e = IoAssert.Rejects(IoFixtures.PathOf("reject_fortran.npy"), () => Npy.Read(IoFixtures.PathOf("reject_fortran.npy")));
        e.Message.Should().Contain("np.ascontiguousarray");
    }

    // ---------- round trips ----------

    private static readonly int[][] Shapes = [[], [0], [0, 3], [5], [2, 3], [2, 3, 4], [1, 1, 1, 1], [3, 0, 2]];

    private static T[] Make<T>(int n, Func<int, T> f) => Enumerable.Range(0, n).Select(f).ToArray();

    private static readonly float[] FloatSpecials =
        [0f, -0f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, float.Epsilon, -1.5f, 1e-38f,
         BitConverter.UInt32BitsToSingle(0x7F800001), BitConverter.UInt32BitsToSingle(0xFFC12345)];

    private static readonly double[] DoubleSpecials =
        [0d, -0d, double.NaN, double.PositiveInfinity, double.NegativeInfinity, double.MaxValue, double.Epsilon, 0.1,
         BitConverter.UInt64BitsToDouble(0x7FF0000000000001)];

    [Fact]
    public void Round_trips_every_dtype_and_shape_bit_exactly()
    {
        foreach (int[] shape in Shapes)
        {
            int n = shape.Aggregate(1, (a, b) => a * b);
            RoundTrip(Make(n, i => FloatSpecials[i % FloatSpecials.Length] * (1 + i / 16)), shape);
            RoundTrip(Make(n, i => DoubleSpecials[i % DoubleSpecials.Length]), shape);
            RoundTrip(Make(n, i => (byte)(i * 37)), shape);
            RoundTrip(Make(n, i => (sbyte)(i * 37)), shape);
            RoundTrip(Make(n, i => (short)(i * 7919 - 30000)), shape);
            RoundTrip(Make(n, i => (ushort)(i * 7919)), shape);
            RoundTrip(Make(n, i => i % 2 == 0 ? int.MinValue + i : int.MaxValue - i), shape);
            RoundTrip(Make(n, i => uint.MaxValue - (uint)i), shape);
            RoundTrip(Make(n, i => i % 2 == 0 ? long.MinValue + i : long.MaxValue - i), shape);
            RoundTrip(Make(n, i => i % 3 == 0), shape);
            RoundTrip(Make(n, i => BitConverter.UInt16BitsToHalf((ushort)(i * 4099))), shape);
        }
    }

    private static void RoundTrip<T>(T[] data, int[] shape) where T : unmanaged
    {
        var ms = new MemoryStream();
        Npy.Write(ms, data, shape);
        (ms.Length % 64).Should().Be((data.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>()) % 64, "data must start 64-byte aligned");
        ms.Position = 0;
        NpyArray back = Npy.Read(ms, "mem.npy");
        back.DType.Should().Be(DTypes.Of<T>());
        back.Shape.Should().Equal(shape);
        ToBytes(back.As<T>()).Should().Equal(ToBytes(data));
        ms.Position.Should().Be(ms.Length);
    }

    private static byte[] ToBytes<T>(T[] a) where T : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()).ToArray();

    [Fact]
    public void Writes_files_atomically_and_overwrites()
    {
        using var dir = new IoAssert.TempDir();
        string path = dir["a.npy"];
        Npy.Write(path, new float[] { 1, 2, 3 }, 3);
        Npy.Write(path, new long[] { 7, 8 }, 2, 1);
        var a = Npy.Read(path);
        a.DType.Should().Be(DType.I64);
        a.Shape.Should().Equal(2, 1);
        a.ToInt64().Should().Equal(7, 8);
        Directory.GetFiles(dir.Path).Should().Equal(path); // no temp files left behind
    }

    [Fact]
    public void Failed_write_leaves_neither_target_nor_temp_file()
    {
        using var dir = new IoAssert.TempDir();
        string target = Path.Combine(dir.Path, "a.npy");
        Action act = () => AtomicFile.Write(target, s => { s.WriteByte(1); throw new IOException("disk full"); });
        act.Should().Throw<IOException>().WithMessage("*a.npy: cannot be written (disk full)");
        Directory.GetFileSystemEntries(dir.Path).Should().BeEmpty();
    }

    [Fact]
    public void Write_validates_arguments()
    {
        var ms = new MemoryStream();
        FluentActions.Invoking(() => Npy.Write(ms, new float[] { 1, 2, 3 }, 2, 2)).Should().Throw<ArgumentException>().WithMessage("*needs 4 elements*");
        FluentActions.Invoking(() => Npy.Write(ms, new float[] { 1 }, -1)).Should().Throw<ArgumentException>().WithMessage("*negative*");
        FluentActions.Invoking(() => Npy.Write(ms, new float[] { 1, 2 })).Should().Throw<ArgumentException>(); // 0-d holds exactly 1
        FluentActions.Invoking(() => Npy.Write(ms, new decimal[] { 1 }, 1)).Should().Throw<NotSupportedException>();
        FluentActions.Invoking(() => Npy.Write(ms, new float[] { 1 }, Enumerable.Repeat(1, 65).ToArray())).Should().Throw<ArgumentException>().WithMessage("*at most 64*");
        Npy.Write(new MemoryStream(), new float[] { 1 }, Enumerable.Repeat(1, 64).ToArray()); // NumPy's limit itself is fine
        ms.Length.Should().Be(0);
    }

    [Fact]
    public void Conversions_are_typed_and_honest()
    {
        var a = new NpyArray(DType.I32, [3], new[] { 1, -2, 3 });
        a.ToFloat32().Should().Equal(1f, -2f, 3f);
        a.ToInt64().Should().Equal(1L, -2L, 3L);
        a.ToInt32().Should().Equal(1, -2, 3);
        var big = new NpyArray(DType.I64, [1], new[] { 1L << 40 });
        FluentActions.Invoking(() => big.ToInt32()).Should().Throw<OverflowException>();
        var f = new NpyArray(DType.F32, [1], new[] { 1.5f });
        FluentActions.Invoking(() => f.ToInt64()).Should().Throw<InvalidCastException>();
        FluentActions.Invoking(() => f.As<double>()).Should().Throw<InvalidCastException>();
        FluentActions.Invoking(() => new NpyArray(DType.F32, [2], new[] { 1.0 })).Should().Throw<ArgumentException>();
    }

    // ---------- hand-made headers ----------

    /// <summary>Builds a v1.0 .npy image from a header text and raw data.</summary>
    private static byte[] Npy1(string header, byte[] data, byte major = 1)
    {
        byte[] h = Encoding.Latin1.GetBytes(header);
        int lenSize = major == 1 ? 2 : 4;
        var b = new byte[8 + lenSize + h.Length + data.Length];
        new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', major, 0 }.CopyTo(b, 0);
        if (lenSize == 2) BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(8), (ushort)h.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), (uint)h.Length);
        h.CopyTo(b, 8 + lenSize);
        data.CopyTo(b, 8 + lenSize + h.Length);
        return b;
    }

    private static readonly byte[] SixFloats = ToBytes(new float[] { 1, 2, 3, 4, 5, 6 });

    [Theory]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }")]
    [InlineData("{'shape': (2, 3), 'descr': '<f4', 'fortran_order': False}\n")]
    [InlineData("{\"fortran_order\": False, \"shape\": (2,3,), \"descr\": \"<f4\"}      \n")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }")]
    [InlineData("{ 'descr' : 'f4' , 'fortran_order' : False , 'shape' : ( 2 , 3 ) }")]
    [InlineData("{'descr': '=f4', 'fortran_order': False, 'shape': (6,)}")]
    [InlineData("{'descr': '<f4', 'fortran_order': True, 'shape': (6,)}")]
    public void Accepts_valid_header_spellings(string header)
    {
        var a = Npy.Read(new MemoryStream(Npy1(header, SixFloats)), "h.npy");
        a.ToFloat32().Should().Equal(1, 2, 3, 4, 5, 6);
    }

    [Theory]
    [InlineData("", "not a Python dictionary")]
    [InlineData("['descr']", "not a Python dictionary")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)", "header ends early")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)} x", "unexpected text")]
    [InlineData("{'descr': '<f4', 'fortran_order': False}", "missing 'shape'")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'extra': 1}", "unexpected key 'extra'")]
    [InlineData("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", "repeats the key 'descr'")]
    [InlineData("{'descr': '<f4', 'fortran_order': false, 'shape': (6,)}", "True or False")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (6)}", "trailing comma")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': [6]}", "expected '('")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (-6,)}", "negative")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,)}", "'shape'")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", "out of range")]
    [InlineData("{'descr': '<f4, 'fortran_order': False, 'shape': (6,)}", "header")]
    [InlineData("{'descr': 5, 'fortran_order': False, 'shape': (6,)}", "dtype string")]
    [InlineData("{'descr': '<x9', 'fortran_order': False, 'shape': (6,)}", "unsupported dtype '<x9'")]
    [InlineData("{'descr': '|O', 'fortran_order': False, 'shape': (6,)}", "object arrays")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (7,)}", "needs 28 data bytes, but only 24")]
    [InlineData("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3)}", "Fortran-ordered")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,6)}", "at most 64")]
    public void Rejects_bad_headers_with_a_clear_message(string header, string part)
    {
        var e = IoAssert.Rejects("h.npy", () => Npy.Read(new MemoryStream(Npy1(header, SixFloats)), "h.npy"));
        e.Message.Should().Contain(part);
    }

    [Theory]
    [InlineData("(1099511627776,)", "too large")]            // 2^40: cannot even be a .NET dimension
    [InlineData("(1073741824, 1073741824)", "too many elements")]
    [InlineData("(4294967296, 4294967296, 4294967296)", "too large")]
    [InlineData("(100000000,)", "needs 400000000 data bytes, but only 24 are present")]
    [InlineData("(2147483647, 0)", null)]                     // zero elements: valid, however big the other axis
    public void Huge_declared_shapes_fail_fast_without_allocating(string shape, string? part)
    {
        byte[] file = Npy1($"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}", part == null ? [] : SixFloats);
        long before = GC.GetAllocatedBytesForCurrentThread();
        if (part == null)
        {
            Npy.Read(new MemoryStream(file), "big.npy").Count.Should().Be(0);
        }
        else
        {
            IoAssert.Rejects("big.npy", () => Npy.Read(new MemoryStream(file), "big.npy")).Message.Should().Contain(part);
        }
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(1 << 20);
    }

    [Fact]
    public void Rejects_bad_magic_version_and_header_length()
    {
        byte[] good = IoFixtures.Bytes("v1_f4.npy");
        byte[] b = (byte[])good.Clone(); b[1] = (byte)'X';
        IoAssert.Rejects("f.npy", () => Npy.Read(new MemoryStream(b), "f.npy")).Message.Should().Contain("not a .npy file");
        IoAssert.Rejects("f.npy", () => Npy.Read(new MemoryStream("hello world, not numpy"u8.ToArray()), "f.npy")).Message.Should().Contain("not a .npy file");
        b = (byte[])good.Clone(); b[6] = 4;
        IoAssert.Rejects("f.npy", () => Npy.Read(new MemoryStream(b), "f.npy")).Message.Should().Contain("version 4.0");
        b = (byte[])good.Clone(); b[7] = 1;
        IoAssert.Rejects("f.npy", () => Npy.Read(new MemoryStream(b), "f.npy")).Message.Should().Contain("version 1.1");
        b = (byte[])good.Clone(); BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(8), 60000);
        IoAssert.Rejects("f.npy", () => Npy.Read(new MemoryStream(b), "f.npy")).Message.Should().Contain("header declares 60000 bytes");
        // v2 with a 4 GB header length: must fail before allocating
        byte[] v2 = Npy1("{}", new byte[2 << 20], major: 2);
        BinaryPrimitives.WriteUInt32LittleEndian(v2.AsSpan(8), 2 << 20);
        IoAssert.Rejects("f.npy", () => Npy.Read(new MemoryStream(v2), "f.npy")).Message.Should().Contain("limit");
        BinaryPrimitives.WriteUInt32LittleEndian(v2.AsSpan(8), uint.MaxValue);
        IoAssert.Rejects("f.npy", () => Npy.Read(new MemoryStream(v2), "f.npy")).Message.Should().Contain("truncated");
        // v3 header must be valid UTF-8
        byte[] v3 = Npy1("{'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", SixFloats, major: 3);
        v3[20] = 0xFF;
        IoAssert.Rejects("f.npy", () => Npy.Read(new MemoryStream(v3), "f.npy")).Message.Should().Contain("UTF-8");
    }

    [Fact]
    public void Trailing_bytes_in_a_file_are_an_error()
    {
        using var dir = new IoAssert.TempDir();
        File.WriteAllBytes(dir["t.npy"], [.. IoFixtures.Bytes("v1_f4.npy"), 0]);
        IoAssert.Rejects(dir["t.npy"], () => Npy.Read(dir["t.npy"])).Message.Should().Contain("1 unexpected bytes");
    }

    [Fact]
    public void Nonzero_bool_bytes_read_as_true()
    {
        byte[] f = Npy1("{'descr': '|b1', 'fortran_order': False, 'shape': (3,)}", [0, 1, 7]);
        Npy.Read(new MemoryStream(f), "b.npy").As<bool>().Should().Equal(false, true, true);
    }

    // ---------- corruption ----------

    [Theory]
    [InlineData("v1_f4.npy")]
    [InlineData("v2_i8.npy")]
    [InlineData("scalar_f8.npy")]
    [InlineData("v1_b1.npy")]
    public void Every_truncation_throws_a_clear_error(string name)
    {
        byte[] full = IoFixtures.Bytes(name);
        for (int len = 0; len < full.Length; len++)
        {
            var e = IoAssert.Rejects(name, () => Npy.Read(new MemoryStream(full, 0, len), name));
            if (len >= 6) e.Message.Should().Contain("truncated", $"prefix of {len} bytes");
        }
        // non-seekable streams take another path; spot-check it
        foreach (int len in new[] { 0, 5, 9, 60, full.Length - 1 })
            IoAssert.Rejects(name, () => Npy.Read(new IoAssert.NonSeekable(new MemoryStream(full, 0, len)), name));
        Npy.Read(new IoAssert.NonSeekable(new MemoryStream(full)), name).Count.Should().BeGreaterThan(0);
    }

    [Fact]
    public void Random_byte_corruption_only_ever_gives_InvalidDataException()
    {
        var rng = new Random(1234);
        byte[] good = IoFixtures.Bytes("v1_f4.npy");
        for (int trial = 0; trial < 3000; trial++)
        {
            byte[] b = (byte[])good.Clone();
            int flips = 1 + rng.Next(3);
            for (int k = 0; k < flips; k++) b[rng.Next(0, 128)] = (byte)rng.Next(256); // header region
            try { Npy.Read(new MemoryStream(b), "fuzz.npy"); }
            catch (InvalidDataException e) { e.Message.Should().StartWith("fuzz.npy: "); }
        }
    }
}
