using Cedm.Tensors.Kernels;

namespace Cedm.Tensors;

// Reshape (a view), permute/transpose (a copy), concat and slice along an axis.
public sealed partial class Tensor
{
    /// <summary>Same data seen with another shape (one dimension may be -1).</summary>
    public Tensor Reshape(params int[] shape)
    {
        var x = this;
        var s = Shapes.InferReshape(_shape, shape);
        return new Tensor(_data, s).Record("reshape", x, g => x.AccumulateGrad(new Tensor(g._data, x._shape)));
    }

    /// <summary>Collapses all dims from <paramref name="startAxis"/> on into one.</summary>
    public Tensor Flatten(int startAxis = 1)
    {
        var s = _shape.Take(startAxis).Append(-1).ToArray();
        return Reshape(s);
    }

    /// <summary>Reorders dimensions: output dim i is input dim <paramref name="axes"/>[i].</summary>
    public Tensor Permute(params int[] axes)
    {
        var x = this;
        if (axes.Length != Rank || axes.Select(a => Shapes.Axis(a, Rank)).Distinct().Count() != Rank)
            throw new ArgumentException($"Permute {Shapes.Format(axes)} is not a permutation of the {Rank} axes of {Shapes.Format(_shape)}.");
        axes = axes.Select(a => Shapes.Axis(a, Rank)).ToArray();
        var y = PermuteCopy(this, axes);
        var inverse = new int[Rank];
        for (int i = 0; i < Rank; i++) inverse[axes[i]] = i;
        return y.Record("permute", x, g => x.AccumulateGrad(PermuteCopy(g, inverse), owned: true));
    }

    public Tensor Transpose(int axis0, int axis1)
    {
        var axes = Enumerable.Range(0, Rank).ToArray();
        int a = Shapes.Axis(axis0, Rank), b = Shapes.Axis(axis1, Rank);
        (axes[a], axes[b]) = (axes[b], axes[a]);
        return Permute(axes);
    }

    private static Tensor PermuteCopy(Tensor x, int[] axes)
    {
        int rank = x.Rank;
        var outShape = new int[rank];
        var inStrides = Shapes.Strides(x._shape);
        var srcStride = new int[rank];
        for (int i = 0; i < rank; i++) { outShape[i] = x._shape[axes[i]]; srcStride[i] = inStrides[axes[i]]; }
        var y = Uninitialized(outShape);
        if (y.Size == 0) return y;
        float[] src = x._data, dst = y._data;
        int inner = outShape[^1], innerStride = srcStride[^1], rows = y.Size / inner;
        Parallelism.For(rows, (r0, nr) =>
        {
            for (int r = r0; r < r0 + nr; r++)
            {
                int rem = r, off = 0;
                for (int d = rank - 2; d >= 0; d--) { off += rem % outShape[d] * srcStride[d]; rem /= outShape[d]; }
                var row = dst.AsSpan(r * inner, inner);
                if (innerStride == 1) src.AsSpan(off, inner).CopyTo(row);
                else for (int i = 0; i < inner; i++) row[i] = src[off + i * innerStride];
            }
        }, Math.Max(1, Parallelism.MinParallelElements / inner));
        return y;
    }

    /// <summary>Joins tensors along <paramref name="axis"/>; all other dimensions must agree.</summary>
    public static Tensor Concat(int axis, params Tensor[] parts)
    {
        if (parts.Length == 0) throw new ArgumentException("Concat needs at least one tensor.");
        int rank = parts[0].Rank;
        axis = Shapes.Axis(axis, rank);
        var shape = parts[0].ShapeArray();
        int total = 0;
        foreach (var p in parts)
        {
            bool ok = p.Rank == rank;
            for (int i = 0; ok && i < rank; i++) ok = i == axis || p._shape[i] == shape[i];
            if (!ok) throw new ArgumentException($"Concat along axis {axis}: shape {Shapes.Format(p._shape)} does not match {Shapes.Format(shape)}.");
            total += p._shape[axis];
        }
        shape[axis] = total;
        var y = Uninitialized(shape);
        var (outer, _, inner) = Shapes.AroundAxis(shape, axis);
        int offset = 0;
        foreach (var p in parts)
        {
            int block = p._shape[axis] * inner;
            for (int o = 0; o < outer; o++)
                p._data.AsSpan(o * block, block).CopyTo(y._data.AsSpan(o * total * inner + offset * inner, block));
            offset += p._shape[axis];
        }
        return y.Record("concat", parts, g =>
        {
            int off = 0;
            foreach (var p in parts)
            {
                if (p.RequiresGrad) p.AccumulateGrad(SliceCopy(g, axis, off, p._shape[axis]), owned: true);
                off += p._shape[axis];
            }
        });
    }

    /// <summary>Elements [start, start+length) along <paramref name="axis"/> (a copy).</summary>
    public Tensor Slice(int axis, int start, int length)
    {
        var x = this;
        axis = Shapes.Axis(axis, Rank);
        if (start < 0 || length < 0 || start + length > _shape[axis])
            throw new ArgumentOutOfRangeException(nameof(start), $"Slice [{start}, {start + length}) of axis {axis} with size {_shape[axis]}.");
        var y = SliceCopy(this, axis, start, length);
        return y.Record("slice", x, g =>
        {
            var gx = Zeros(x._shape);
            var (outer, n, inner) = Shapes.AroundAxis(x._shape, axis);
            int block = length * inner;
            for (int o = 0; o < outer; o++)
                g._data.AsSpan(o * block, block).CopyTo(gx._data.AsSpan((o * n + start) * inner, block));
            x.AccumulateGrad(gx, owned: true);
        });
    }

    private static Tensor SliceCopy(Tensor x, int axis, int start, int length)
    {
        var shape = x.ShapeArray(); shape[axis] = length;
        var y = Uninitialized(shape);
        var (outer, n, inner) = Shapes.AroundAxis(x._shape, axis);
        int block = length * inner;
        for (int o = 0; o < outer; o++)
            x._data.AsSpan((o * n + start) * inner, block).CopyTo(y._data.AsSpan(o * block, block));
        return y;
    }

    /// <summary>Rows of a [N, ...] tensor picked by index (a copy); gradients scatter-add back.</summary>
    public Tensor IndexSelect(int[] rows)
    {
        var x = this;
        int rowSize = Size / Math.Max(1, _shape[0]);
        var shape = ShapeArray(); shape[0] = rows.Length;
        var y = Uninitialized(shape);
        for (int i = 0; i < rows.Length; i++)
        {
            // CA2201: an index past the end throws what an array would.
#pragma warning disable CA2201
            if ((uint)rows[i] >= (uint)_shape[0]) throw new IndexOutOfRangeException($"Row {rows[i]} of a tensor with {_shape[0]} rows.");
#pragma warning restore CA2201
            _data.AsSpan(rows[i] * rowSize, rowSize).CopyTo(y._data.AsSpan(i * rowSize, rowSize));
        }
        return y.Record("index_select", x, g =>
        {
            var gx = Zeros(x._shape);
            for (int i = 0; i < rows.Length; i++)
                System.Numerics.Tensors.TensorPrimitives.Add(gx._data.AsSpan(rows[i] * rowSize, rowSize), g._data.AsSpan(i * rowSize, rowSize), gx._data.AsSpan(rows[i] * rowSize, rowSize));
            x.AccumulateGrad(gx, owned: true);
        });
    }
}
