namespace Cedm.Tensors.Kernels;

/// <summary>
/// Drives element-wise ops over broadcast operands. Dimensions are first coalesced (size-1 output dims
/// dropped, neighbours merged when every operand is contiguous across them), so per-channel and per-sample
/// broadcasts on NCHW become a few long rows: e.g. x[N,C,H,W] + b[1,C,1,1] runs as N*C rows of H*W, each a
/// (vector, scalar) span op. The innermost stride of every operand is then 0 (broadcast) or 1.
/// </summary>
internal static class Broadcasting
{
    /// <summary>Coalesced layout: dims plus the strides of each operand (output is contiguous).</summary>
    private readonly record struct Layout(int[] Dims, int[] StridesA, int[] StridesB)
    {
        public int Inner => Dims.Length == 0 ? 1 : Dims[^1];
        public int InnerA => Dims.Length == 0 ? 0 : StridesA[^1];
        public int InnerB => Dims.Length == 0 ? 0 : StridesB[^1];
        public int Rows { get { int r = 1; for (int i = 0; i < Dims.Length - 1; i++) r *= Dims[i]; return r; } }

        /// <summary>Offsets of row <paramref name="row"/> (an index over all dims but the last) in A and B.</summary>
        public (int A, int B) RowOffsets(int row)
        {
            int oa = 0, ob = 0;
            for (int d = Dims.Length - 2; d >= 0; d--)
            {
                int i = row % Dims[d]; row /= Dims[d];
                oa += i * StridesA[d]; ob += i * StridesB[d];
            }
            return (oa, ob);
        }
    }

    private static Layout Coalesce(ReadOnlySpan<int> outShape, int[] sa, int[] sb)
    {
        var dims = new List<int>(); var la = new List<int>(); var lb = new List<int>();
        for (int i = 0; i < outShape.Length; i++)
        {
            if (outShape[i] == 1) continue;
            int n = dims.Count;
            if (n > 0 && la[n - 1] == sa[i] * outShape[i] && lb[n - 1] == sb[i] * outShape[i])
            {
                dims[n - 1] *= outShape[i]; la[n - 1] = sa[i]; lb[n - 1] = sb[i];
            }
            else { dims.Add(outShape[i]); la.Add(sa[i]); lb.Add(sb[i]); }
        }
        return new Layout([.. dims], [.. la], [.. lb]);
    }

    /// <summary>o = op(a, b) with NumPy broadcasting; <paramref name="o"/> has shape <paramref name="outShape"/>.</summary>
    public static void Binary<TOp>(float[] a, ReadOnlySpan<int> aShape, float[] b, ReadOnlySpan<int> bShape, float[] o, ReadOnlySpan<int> outShape)
        where TOp : IBinaryOp
    {
        if (a.Length == o.Length && b.Length == o.Length)
        {
            Parallelism.For(o.Length, (s, n) => TOp.Apply(a.AsSpan(s, n), b.AsSpan(s, n), o.AsSpan(s, n)));
            return;
        }
        if (b.Length == 1 && a.Length == o.Length) { float y = b[0]; Parallelism.For(o.Length, (s, n) => TOp.Apply(a.AsSpan(s, n), y, o.AsSpan(s, n))); return; }
        if (a.Length == 1 && b.Length == o.Length) { float x = a[0]; Parallelism.For(o.Length, (s, n) => TOp.Apply(x, b.AsSpan(s, n), o.AsSpan(s, n))); return; }

        var l = Coalesce(outShape, Shapes.BroadcastStrides(aShape, outShape), Shapes.BroadcastStrides(bShape, outShape));
        int inner = l.Inner;
        Parallelism.For(l.Rows, (r0, nr) =>
        {
            for (int r = r0; r < r0 + nr; r++)
            {
                var (oa, ob) = l.RowOffsets(r);
                var dst = o.AsSpan(r * inner, inner);
                switch (l.InnerA, l.InnerB)
                {
                    case (1, 1): TOp.Apply(a.AsSpan(oa, inner), b.AsSpan(ob, inner), dst); break;
                    case (1, 0): TOp.Apply(a.AsSpan(oa, inner), b[ob], dst); break;
                    case (0, 1): TOp.Apply(a[oa], b.AsSpan(ob, inner), dst); break;
                    default: dst.Fill(TOp.Invoke(a[oa], b[ob])); break;
                }
            }
        }, Math.Max(1, Parallelism.MinParallelElements / Math.Max(1, inner)));
    }

    /// <summary>
    /// Sums <paramref name="g"/> (shape <paramref name="outShape"/>) over the dimensions along which
    /// <paramref name="targetShape"/> was broadcast: the backward of broadcasting.
    /// </summary>
    public static float[] SumTo(float[] g, ReadOnlySpan<int> outShape, ReadOnlySpan<int> targetShape)
    {
        var result = new float[Shapes.Size(targetShape)];
        var zeros = new int[outShape.Length];
        var l = Coalesce(outShape, Shapes.BroadcastStrides(targetShape, outShape), zeros);
        int inner = l.Inner, rows = l.Rows;
        for (int r = 0; r < rows; r++)
        {
            int ot = l.RowOffsets(r).A;
            var src = g.AsSpan(r * inner, inner);
            if (l.InnerA == 1) System.Numerics.Tensors.TensorPrimitives.Add(result.AsSpan(ot, inner), src, result.AsSpan(ot, inner));
            else result[ot] += System.Numerics.Tensors.TensorPrimitives.Sum<float>(src);
        }
        return result;
    }
}
