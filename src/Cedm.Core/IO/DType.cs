namespace Cedm.IO;

/// <summary>
/// Element types understood by the array/weight readers and writers (.npy and .safetensors).
/// Names follow safetensors ("F32", "BF16", ...); <see cref="DTypes"/> maps them to NumPy descr codes.
/// Only types the engine can meaningfully hold are listed: no complex, no strings, no unsigned 64-bit
/// (values above <see cref="long.MaxValue"/> would not survive a conversion to <see cref="long"/>).
/// </summary>
public enum DType
{
    Bool,
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    I64,
    F16,
    BF16,
    F32,
    F64,
}

/// <summary>Per-dtype facts shared by both formats: element size, CLR array type, format names.</summary>
public static class DTypes
{
    /// <summary>Size of one element in bytes.</summary>
    public static int Size(this DType t) => t switch
    {
        DType.Bool or DType.U8 or DType.I8 => 1,
        DType.U16 or DType.I16 or DType.F16 or DType.BF16 => 2,
        DType.U32 or DType.I32 or DType.F32 => 4,
        DType.I64 or DType.F64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, null),
    };

    /// <summary>True for F16, BF16, F32, F64.</summary>
    public static bool IsFloat(this DType t) => t is DType.F16 or DType.BF16 or DType.F32 or DType.F64;

    /// <summary>
    /// CLR element type used to hold values of this dtype. BF16 has no CLR type; it is held as its raw
    /// 16-bit pattern in a <see cref="ushort"/> (upper half of a float32).
    /// </summary>
    public static Type ClrType(this DType t) => t switch
    {
        DType.Bool => typeof(bool),
        DType.U8 => typeof(byte),
        DType.I8 => typeof(sbyte),
        DType.U16 => typeof(ushort),
        DType.I16 => typeof(short),
        DType.U32 => typeof(uint),
        DType.I32 => typeof(int),
        DType.I64 => typeof(long),
        DType.F16 => typeof(Half),
        DType.BF16 => typeof(ushort),
        DType.F32 => typeof(float),
        DType.F64 => typeof(double),
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, null),
    };

    /// <summary>Allocates a zeroed CLR array for <paramref name="count"/> elements of this dtype.</summary>
    public static Array NewArray(this DType t, int count) => Array.CreateInstance(t.ClrType(), count);

    /// <summary>The safetensors dtype string ("F32", "BF16", "BOOL", ...).</summary>
    public static string SafetensorsName(this DType t) => t == DType.Bool ? "BOOL" : t.ToString();

    /// <summary>Parses a safetensors dtype string; false for dtypes we do not support (e.g. "F8_E4M3", "U64").</summary>
    public static bool TryParseSafetensorsName(string s, out DType t)
    {
        t = s switch
        {
            "BOOL" => DType.Bool,
            "U8" => DType.U8,
            "I8" => DType.I8,
            "U16" => DType.U16,
            "I16" => DType.I16,
            "U32" => DType.U32,
            "I32" => DType.I32,
            "I64" => DType.I64,
            "F16" => DType.F16,
            "BF16" => DType.BF16,
            "F32" => DType.F32,
            "F64" => DType.F64,
            _ => (DType)(-1),
        };
        return (int)t >= 0;
    }

    /// <summary>
    /// NumPy type code without byte-order character ("f4", "u1", "b1", ...); null for BF16, which NumPy lacks.
    /// </summary>
    public static string? NumpyCode(this DType t) => t switch
    {
        DType.Bool => "b1",
        DType.U8 => "u1",
        DType.I8 => "i1",
        DType.U16 => "u2",
        DType.I16 => "i2",
        DType.U32 => "u4",
        DType.I32 => "i4",
        DType.I64 => "i8",
        DType.F16 => "f2",
        DType.F32 => "f4",
        DType.F64 => "f8",
        _ => null,
    };

    /// <summary>Maps a NumPy type code ("f4", "u1", ...) back to a dtype.</summary>
    public static bool TryParseNumpyCode(string code, out DType t)
    {
        foreach (DType d in Enum.GetValues<DType>())
        {
            if (d.NumpyCode() == code) { t = d; return true; }
        }
        t = default;
        return false;
    }

    /// <summary>The dtype whose CLR holder type is <typeparamref name="T"/> (ushort maps to U16, not BF16).</summary>
    public static DType Of<T>() where T : unmanaged
    {
        Type c = typeof(T);
        foreach (DType d in Enum.GetValues<DType>())
        {
            if (d != DType.BF16 && d.ClrType() == c) return d;
        }
        throw new NotSupportedException($"No dtype holds elements of type {c.Name}.");
    }
}
