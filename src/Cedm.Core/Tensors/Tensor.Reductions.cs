using System.Numerics.Tensors;
using Cedm.Tensors.Kernels;

namespace Cedm.Tensors;

// Sum and mean, over everything or along axes. An axis reduction sees the input as [outer, n, inner].
public sealed partial class Tensor
{
    /// <summary>Sum of all elements (a one-element tensor of shape []), accumulated in double.</summary>
    public Tensor Sum()
    {
        var x = this;
        var y = Scalar((float)SumDouble(_data));
        return y.Record("sum", x, g => x.AccumulateGrad(Full(g._data[0], x._shape), owned: true));
    }

    public Tensor Mean()
    {
        if (Size == 0) throw new InvalidOperationException("Mean() of an empty tensor.");
        return Sum().MulScalar(1f / Size);
    }

    /// <summary>Sum along one axis; with <paramref name="keepDim"/> the axis stays with size 1.</summary>
    public Tensor Sum(int axis, bool keepDim = false)
    {
        var x = this;
        axis = Shapes.Axis(axis, Rank);
        var (outer, n, inner) = Shapes.AroundAxis(_shape, axis);
        var outShape = keepDim ? ShapeArray() : ShapeWithout(axis);
        if (keepDim) outShape[axis] = 1;
        var y = Zeros(outShape);
        float[] xd = _data, yd = y._data;
        Parallelism.ForEach(outer, (long)n * inner, o =>
        {
            var dst = yd.AsSpan(o * inner, inner);
            if (inner == 1) dst[0] = (float)SumDouble(xd.AsSpan(o * n, n));
            else
            {
                for (int j = 0; j < n; j++) TensorPrimitives.Add(dst, xd.AsSpan((o * n + j) * inner, inner), dst);
            }
        });
        return y.Record("sum_axis", x, g =>
        {
            // Broadcast the gradient back along the reduced axis.
            var gx = Uninitialized(x._shape);
            float[] gd = g._data, gxd = gx._data;
            for (int o = 0; o < outer; o++)
                for (int j = 0; j < n; j++)
                    gd.AsSpan(o * inner, inner).CopyTo(gxd.AsSpan((o * n + j) * inner, inner));
            x.AccumulateGrad(gx, owned: true);
        });
    }

    public Tensor Mean(int axis, bool keepDim = false)
    {
        int n = Dim(axis);
        return Sum(axis, keepDim).MulScalar(1f / n);
    }

    /// <summary>Sum over several axes (e.g. [1,2,3] for a per-sample sum of an NCHW tensor).</summary>
    public Tensor Sum(int[] axes, bool keepDim = false)
    {
        var sorted = axes.Select(a => Shapes.Axis(a, Rank)).Distinct().OrderByDescending(a => a).ToArray();
        var t = this;
        foreach (int a in sorted) t = t.Sum(a, keepDim: true);
        if (keepDim) return t;
        var shape = new List<int>();
        for (int i = 0; i < Rank; i++) if (!sorted.Contains(i)) shape.Add(_shape[i]);
        return t.Reshape([.. shape]);
    }

    public Tensor Mean(int[] axes, bool keepDim = false)
    {
        long n = 1;
        foreach (int a in axes.Select(a => Shapes.Axis(a, Rank)).Distinct()) n *= _shape[a];
        return Sum(axes, keepDim).MulScalar(1f / n);
    }

    /// <summary>Index of the largest element along the last axis, per row (no gradient).</summary>
    public int[] ArgMaxLastAxis()
    {
        int n = _shape[^1], rows = Size / Math.Max(1, n);
        var r = new int[rows];
        for (int i = 0; i < rows; i++) r[i] = TensorPrimitives.IndexOfMax<float>(_data.AsSpan(i * n, n));
        return r;
    }

    /// <summary>
    /// Vectorised float sums over 4096-element blocks, accumulated across blocks in double: fast, and the rounding
    /// error grows with the block size rather than with the whole length.
    /// </summary>
    internal static double SumDouble(ReadOnlySpan<float> x)
    {
        double s = 0;
        for (int o = 0; o < x.Length; o += 4096) s += TensorPrimitives.Sum<float>(x.Slice(o, Math.Min(4096, x.Length - o)));
        return s;
    }

    private int[] ShapeWithout(int axis)
    {
        var s = new int[Rank - 1];
        for (int i = 0, j = 0; i < Rank; i++) if (i != axis) s[j++] = _shape[i];
        return s;
    }
}
