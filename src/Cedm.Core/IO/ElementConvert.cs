namespace Cedm.IO;

/// <summary>Element conversions between stored dtypes and the engine's float32 / int64 views.</summary>
public static class ElementConvert
{
    /// <summary>bfloat16 is the upper 16 bits of an IEEE float32, so widening is an exact shift.</summary>
    public static float BF16ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>
    /// float32 → bfloat16 with round-to-nearest-even (what torch does). NaN stays NaN (quiet bit forced so
    /// truncation cannot turn a NaN payload into Inf); overflow rounds to ±Inf as IEEE rounding requires.
    /// </summary>
    public static ushort SingleToBF16(float f)
    {
        uint u = BitConverter.SingleToUInt32Bits(f);
        if (float.IsNaN(f)) return (ushort)((u >> 16) | 0x0040);
        uint lsb = (u >> 16) & 1;
        return (ushort)((u + 0x7FFF + lsb) >> 16);
    }

    /// <summary>
    /// Converts a holder array of dtype <paramref name="t"/> to float32. Exact for F32/F16/BF16 and for
    /// integers up to 2^24 in magnitude; F64 and large integers round to nearest.
    /// </summary>
    public static float[] ToFloat32(Array data, DType t)
    {
        switch (t)
        {
            case DType.F32: return (float[])((float[])data).Clone();
            case DType.BF16:
            {
                var s = (ushort[])data;
                var r = new float[s.Length];
                for (int i = 0; i < s.Length; i++) r[i] = BF16ToSingle(s[i]);
                return r;
            }
            case DType.F16: return Map((Half[])data, static h => (float)h);
            case DType.F64: return Map((double[])data, static d => (float)d);
            case DType.Bool: return Map((bool[])data, static b => b ? 1f : 0f);
            case DType.U8: return Map((byte[])data, static v => (float)v);
            case DType.I8: return Map((sbyte[])data, static v => (float)v);
            case DType.U16: return Map((ushort[])data, static v => (float)v);
            case DType.I16: return Map((short[])data, static v => (float)v);
            case DType.U32: return Map((uint[])data, static v => (float)v);
            case DType.I32: return Map((int[])data, static v => (float)v);
            case DType.I64: return Map((long[])data, static v => (float)v);
            default: throw new ArgumentOutOfRangeException(nameof(t), t, null);
        }
    }

    /// <summary>Converts a float/int holder array to float64 (exact for every dtype except I64 beyond 2^53).</summary>
    public static double[] ToFloat64(Array data, DType t) => t switch
    {
        DType.F64 => (double[])((double[])data).Clone(),
        DType.I64 => Map((long[])data, static v => (double)v),
        DType.U32 => Map((uint[])data, static v => (double)v),
        _ => Map(ToFloat32(data, t), static v => (double)v),
    };

    /// <summary>Converts an integer/bool holder array to int64 (always exact). Float dtypes are rejected.</summary>
    public static long[] ToInt64(Array data, DType t) => t switch
    {
        DType.I64 => (long[])((long[])data).Clone(),
        DType.Bool => Map((bool[])data, static b => b ? 1L : 0L),
        DType.U8 => Map((byte[])data, static v => (long)v),
        DType.I8 => Map((sbyte[])data, static v => (long)v),
        DType.U16 => Map((ushort[])data, static v => (long)v),
        DType.I16 => Map((short[])data, static v => (long)v),
        DType.U32 => Map((uint[])data, static v => (long)v),
        DType.I32 => Map((int[])data, static v => (long)v),
        _ => throw new InvalidCastException($"Cannot convert {t} elements to int64 exactly; use ToFloat32/ToFloat64."),
    };

    internal static TOut[] Map<TIn, TOut>(TIn[] src, Func<TIn, TOut> f)
    {
        var r = new TOut[src.Length];
        for (int i = 0; i < src.Length; i++) r[i] = f(src[i]);
        return r;
    }
}
