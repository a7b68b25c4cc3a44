using Cedm.IO;
using FluentAssertions;

namespace Cedm.Tests.IO;

/// <summary>
/// Writes the files that <c>tools/make_io_fixtures.py --verify DIR</c> checks with NumPy and torch
/// (values here mirror <c>verify_floats</c>/<c>verify_npy_arrays</c> in that script exactly). Always writes to a
/// temp dir and reads back; with CEDM_IO_VERIFY_DIR=DIR set it also leaves the files in DIR:
/// <code>
/// CEDM_IO_VERIFY_DIR=/tmp/cedm-io dotnet test tests/Cedm.Tests -c Release --filter "FullyQualifiedName~IoCrossCheck"
/// /usr/bin/python3 tools/make_io_fixtures.py --verify /tmp/cedm-io
/// </code>
/// </summary>
public class IoCrossCheckTests
{
    private static readonly uint[] SpecialBits =
    [
        0x00000000, 0x80000000, 0x3F800000, 0xBF800000, 0x7FC00000, 0x7F800000, 0xFF800000,
        0x7F7FFFFF, 0x00000001, 0x3F808000, 0x3F818000, 0x477FE000, 0x477FF000, 0x322BCC77,
        0x7F7F8000, 0x7F800001, 0x33000000, 0x33000001,
    ];

    /// <summary>Specials (bf16 ties, f16 overflow/underflow edges, NaNs) then ((i*7919) % 1000 - 500) / 37 in float32.</summary>
    internal static float[] VerifyFloats()
    {
        var f = SpecialBits.Select(BitConverter.UInt32BitsToSingle).ToList();
        for (int i = 0; i < 46; i++) f.Add((float)(i * 7919L % 1000 - 500) / 37f);
        return [.. f];
    }

    internal static void WriteVerifyFiles(string dir)
    {
        float[] f = VerifyFloats();
        Npy.Write(Path.Combine(dir, "ours_f4.npy"), f, 8, 8);
        Npy.Write(Path.Combine(dir, "ours_f8.npy"), f.Select(x => (double)x / 3).ToArray(), 4, 16);
        Npy.Write(Path.Combine(dir, "ours_u1.npy"), Enumerable.Range(0, 300).Select(i => (byte)(i * 37 % 256)).ToArray(), 3, 100);
        Npy.Write(Path.Combine(dir, "ours_i4.npy"), new[] { int.MinValue, int.MaxValue, 0, -1, 123456789 }, 5);
        Npy.Write(Path.Combine(dir, "ours_i8.npy"), new[] { long.MinValue, long.MaxValue, 0, 9007199254740993 }, 2, 2);
        Npy.Write(Path.Combine(dir, "ours_scalar_f4.npy"), new[] { -0f });
        Npy.Write(Path.Combine(dir, "ours_empty_f4.npy"), Array.Empty<float>(), 0, 3);
        Npy.Write(Path.Combine(dir, "ours_cube_f8.npy"), Enumerable.Range(0, 24).Select(i => i - 11.5).ToArray(), 2, 3, 4);

        var tensors = new List<(string, int[], float[])>
        {
            ("weight", [8, 8], f),
            ("bias", [5], f[..5]),
            ("scalar", [], [0.1f]),
            ("empty", [0, 3], []),
            ("z.unicode.\u00e9", [2, 3], f[40..46]),
        };
        var meta = new Dictionary<string, string> { ["format"] = "pt", ["step"] = "1000", ["note"] = "caf\u00e9 \"quoted\"" };
        foreach (DType t in new[] { DType.F32, DType.F16, DType.BF16, DType.F64 })
            Safetensors.Write(Path.Combine(dir, $"ours_{t.ToString().ToLowerInvariant()}.safetensors"), tensors, meta, t);
    }

    [Fact]
    public void Writes_the_cross_check_files_and_reads_them_back()
    {
        using var tmp = new IoAssert.TempDir();
        WriteVerifyFiles(tmp.Path);
        Directory.GetFiles(tmp.Path).Should().HaveCount(12);
        IoAssert.Bits(Npy.Read(tmp["ours_f4.npy"]).As<float>()).Should().Equal(IoAssert.Bits(VerifyFloats()));
        IoAssert.Bits(Safetensors.Read(tmp["ours_f32.safetensors"]).Tensors["weight"].Data).Should().Equal(IoAssert.Bits(VerifyFloats()));

        string? dir = Environment.GetEnvironmentVariable("CEDM_IO_VERIFY_DIR");
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
            WriteVerifyFiles(dir);
        }
    }
}
