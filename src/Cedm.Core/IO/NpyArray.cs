namespace Cedm.IO;

/// <summary>
/// An array read from (or to be written to) a .npy file: dtype, C-order shape and a typed CLR array.
/// <see cref="Data"/> is <c>float[]</c> for F32, <c>double[]</c> for F64, <c>byte[]</c> for U8,
/// <c>int[]</c> for I32, <c>long[]</c> for I64, <c>bool[]</c>, <c>sbyte[]</c>, <c>short[]</c>,
/// <c>ushort[]</c>, <c>uint[]</c>, <c>Half[]</c> for the others (see <see cref="DTypes.ClrType"/>).
/// A 0-d array has an empty <see cref="Shape"/> and one element.
/// </summary>
public sealed class NpyArray
{
    public DType DType { get; }
    public int[] Shape { get; }
    public Array Data { get; }

    /// <summary>Number of elements (product of <see cref="Shape"/>; 1 for 0-d).</summary>
    public int Count => Data.Length;

    public NpyArray(DType dtype, int[] shape, Array data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (dtype == DType.BF16) throw new ArgumentException("NumPy has no bfloat16 dtype; .npy cannot hold BF16.", nameof(dtype));
        if (data.GetType().GetElementType() != dtype.ClrType() || data.Rank != 1)
            throw new ArgumentException($"{dtype} data must be a {dtype.ClrType().Name}[], got {data.GetType().Name}.", nameof(data));
        int n = FileShapes.CountForWrite(shape, nameof(shape));
        if (n != data.Length)
            throw new ArgumentException($"Shape ({string.Join(", ", shape)}) needs {n} elements, data has {data.Length}.", nameof(data));
        DType = dtype;
        Shape = (int[])shape.Clone();
        Data = data;
    }

    /// <summary>Typed access without copying; throws when <typeparamref name="T"/> is not the holder type.</summary>
    public T[] As<T>() where T : unmanaged =>
        Data as T[] ?? throw new InvalidCastException($"Array holds {DType} ({Data.GetType().Name}), not {typeof(T).Name}[].");

    /// <summary>Copy as float32 (exact for F32/F16 and small integers; F64 rounds).</summary>
    public float[] ToFloat32() => ElementConvert.ToFloat32(Data, DType);

    /// <summary>Copy as float64.</summary>
    public double[] ToFloat64() => ElementConvert.ToFloat64(Data, DType);

    /// <summary>Copy as int64; only integer and bool dtypes (float → int would silently truncate).</summary>
    public long[] ToInt64() => ElementConvert.ToInt64(Data, DType);

    /// <summary>Copy as int32; integer/bool dtypes whose values all fit.</summary>
    public int[] ToInt32()
    {
        if (Data is int[] ints) return (int[])ints.Clone();
        long[] l = ToInt64();
        var r = new int[l.Length];
        for (int i = 0; i < l.Length; i++)
        {
            if (l[i] < int.MinValue || l[i] > int.MaxValue)
                throw new OverflowException($"Element {i} ({l[i]}) does not fit in int32.");
            r[i] = (int)l[i];
        }
        return r;
    }
}
