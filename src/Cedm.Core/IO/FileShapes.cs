namespace Cedm.IO;

/// <summary>
/// Shape arithmetic of the array file formats (.npy, .safetensors), overflow-safe: header shapes are 64-bit and
/// untrusted. Tensor shapes in memory are <see cref="Cedm.Tensors.Shapes"/>.
/// </summary>
internal static class FileShapes
{
    /// <summary>
    /// Element count of a declared shape, or -1 when it exceeds <paramref name="limit"/>.
    /// Computed with early exit so absurd shapes like (2^40, 2^40) cannot overflow; a zero dimension
    /// makes the count 0 whatever the other dimensions are (NumPy allows (0, huge)).
    /// </summary>
    public static long CheckedCount(ReadOnlySpan<long> dims, long limit)
    {
        foreach (long d in dims)
        {
            if (d == 0) return 0;
        }
        long n = 1;
        foreach (long d in dims)
        {
            if (d < 0 || d > limit / n) return -1;
            n *= d;
        }
        return n;
    }

    /// <summary>Element count of a caller-supplied shape; validates non-negative dims and the CLR array limit.</summary>
    public static int CountForWrite(int[] shape, string paramName)
    {
        ArgumentNullException.ThrowIfNull(shape, paramName);
        if (shape.Any(d => d < 0)) throw new ArgumentException($"Shape ({string.Join(", ", shape)}) has a negative dimension.", paramName);
        long n = CheckedCount(shape.Select(d => (long)d).ToArray(), Array.MaxLength);
        if (n < 0) throw new ArgumentException($"Shape ({string.Join(", ", shape)}) has too many elements.", paramName);
        return (int)n;
    }

    public static string Format(IEnumerable<long> dims) => "(" + string.Join(", ", dims) + ")";
}
