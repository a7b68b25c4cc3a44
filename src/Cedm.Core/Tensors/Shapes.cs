namespace Cedm.Tensors;

/// <summary>Shape arithmetic shared by tensors and kernels: sizes, strides, broadcasting, formatting.</summary>
public static class Shapes
{
    /// <summary>Number of elements; throws when it would not fit an int (our arrays are float[]).</summary>
    public static int Size(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"Shape {Format(shape)} has a negative dimension.");
            n *= d;
            if (n > Array.MaxLength) throw new ArgumentException($"Shape {Format(shape)} has more than {Array.MaxLength} elements.");
        }
        return (int)n;
    }

    /// <summary>Row-major (C order) strides in elements.</summary>
    public static int[] Strides(ReadOnlySpan<int> shape)
    {
        var s = new int[shape.Length];
        int acc = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
        return s;
    }

    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    public static bool Equal(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);

    /// <summary>Normalises a possibly negative axis (-1 = last) and checks it is in range.</summary>
    public static int Axis(int axis, int rank)
    {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new ArgumentOutOfRangeException(nameof(axis), $"Axis {axis} is out of range for a tensor of rank {rank}.");
        return a;
    }

    /// <summary>NumPy broadcasting: shapes are right-aligned; each pair of dims must be equal or one of them 1.</summary>
    public static int[] Broadcast(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var r = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"Shapes {Format(a)} and {Format(b)} cannot be broadcast together (dim {i}: {da} vs {db}).");
            r[i] = da == 1 ? db : da;
        }
        return r;
    }

    /// <summary>
    /// Strides of <paramref name="shape"/> seen as an operand of an op with output shape <paramref name="outShape"/>:
    /// right-aligned, with stride 0 on every broadcast dimension.
    /// </summary>
    public static int[] BroadcastStrides(ReadOnlySpan<int> shape, ReadOnlySpan<int> outShape)
    {
        var own = Strides(shape);
        var s = new int[outShape.Length];
        int off = outShape.Length - shape.Length;
        for (int i = off; i < outShape.Length; i++)
            s[i] = shape[i - off] == 1 && outShape[i] != 1 ? 0 : own[i - off];
        return s;
    }

    /// <summary>Replaces a single -1 in a requested shape by the size that makes the element count match.</summary>
    public static int[] InferReshape(ReadOnlySpan<int> from, int[] to)
    {
        int size = Size(from), known = 1, unknown = -1;
        for (int i = 0; i < to.Length; i++)
        {
            if (to[i] == -1)
            {
                if (unknown >= 0) throw new ArgumentException($"Reshape to {Format(to)}: at most one dimension may be -1.");
                unknown = i;
            }
            else if (to[i] < 0) throw new ArgumentException($"Reshape to {Format(to)}: negative dimension.");
            else known *= to[i];
        }
        var r = (int[])to.Clone();
        if (unknown >= 0)
        {
            if (known == 0 || size % known != 0) throw new ArgumentException($"Cannot reshape {Format(from)} ({size} elements) to {Format(to)}.");
            r[unknown] = size / known;
        }
        if (Size(r) != size) throw new ArgumentException($"Cannot reshape {Format(from)} ({size} elements) to {Format(to)} ({Size(r)} elements).");
        return r;
    }

    /// <summary>Splits a shape around an axis into (outer, n, inner) so axis reductions become 3-D loops.</summary>
    public static (int Outer, int N, int Inner) AroundAxis(ReadOnlySpan<int> shape, int axis)
    {
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.Length; i++) inner *= shape[i];
        return (outer, shape[axis], inner);
    }
}
