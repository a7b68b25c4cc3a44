using System.Numerics.Tensors;

namespace Cedm.Tensors.Kernels;

/// <summary>
/// y = act(x + b) with a bias along axis 1 of x seen as [N, C, S] (per channel on NCHW, per feature on [N, F]
/// where S = 1), and its backward g' = dy·act'(x + b), db_c = Σ_{n,s} g'. The pre-activation is recomputed
/// from x in the backward instead of being stored. Work is split over the N·C rows (or N rows when S = 1).
/// </summary>
internal static class BiasActivationKernel
{
    public static void Forward(float[] x, float[] bias, float[] y, int n, int c, int s, Activation act)
    {
        if (s == 1)
        {
            Parallelism.For(n, (start, len) =>
            {
                Span<float> scratch = stackalloc float[NormMath.Chunk];
                for (int row = start; row < start + len; row++)
                    for (int i = 0; i < c; i += NormMath.Chunk)
                    {
                        int m = Math.Min(NormMath.Chunk, c - i), o = row * c + i;
                        var dst = y.AsSpan(o, m);
                        TensorPrimitives.Add(x.AsSpan(o, m), bias.AsSpan(i, m), dst);
                        Apply(dst, scratch, act);
                    }
            }, Math.Max(1, Parallelism.MinParallelElements / Math.Max(1, c * Cost(act))));
            return;
        }
        Parallelism.For(n * c, (start, len) =>
        {
            Span<float> scratch = stackalloc float[NormMath.Chunk];
            for (int row = start; row < start + len; row++)
                for (int i = 0; i < s; i += NormMath.Chunk)
                {
                    int m = Math.Min(NormMath.Chunk, s - i), o = row * s + i;
                    var dst = y.AsSpan(o, m);
                    TensorPrimitives.Add(x.AsSpan(o, m), bias[row % c], dst);
                    Apply(dst, scratch, act);
                }
        }, Math.Max(1, Parallelism.MinParallelElements / Math.Max(1, s * Cost(act))));
    }

    /// <summary>Writes g' into <paramref name="gx"/> and Σ g' per (n, c) into <paramref name="sumG"/> [N·C] when given.</summary>
    public static void Backward(float[] x, float[] bias, float[] dy, float[] gx, int n, int c, int s, Activation act, double[]? sumG)
    {
        bool perFeature = s == 1;
        int rows = perFeature ? n : n * c, len = perFeature ? c : s;
        Parallelism.For(rows, (start, count) =>
        {
            Span<float> h = stackalloc float[NormMath.Chunk];
            for (int row = start; row < start + count; row++)
            {
                double sum = 0;
                for (int i = 0; i < len; i += NormMath.Chunk)
                {
                    int m = Math.Min(NormMath.Chunk, len - i), o = row * len + i;
                    var hs = h[..m];
                    var dst = gx.AsSpan(o, m);
                    var g = dy.AsSpan(o, m);
                    if (act == Activation.None) g.CopyTo(dst);
                    else
                    {
                        if (perFeature) TensorPrimitives.Add(x.AsSpan(o, m), bias.AsSpan(i, m), hs);
                        else TensorPrimitives.Add(x.AsSpan(o, m), bias[row % c], hs);
                        Chain(g, hs, dst, act);
                    }
                    if (sumG != null && !perFeature) sum += TensorPrimitives.Sum<float>(dst);
                }
                if (sumG != null && !perFeature) sumG[row] = sum;
            }
        }, Math.Max(1, Parallelism.MinParallelElements / Math.Max(1, len * Cost(act))));
    }

    /// <summary>db = Σ over rows of g' (per-feature layout) or Σ_n of the per-(n, c) sums.</summary>
    public static float[] ReduceBias(float[] gp, double[]? sumG, int n, int c, int s)
    {
        var db = new double[c];
        if (s == 1)
            for (int row = 0; row < n; row++)
                for (int i = 0; i < c; i++) db[i] += gp[row * c + i];
        else
            for (int row = 0; row < n * c; row++) db[row % c] += sumG![row];
        return db.Select(v => (float)v).ToArray();
    }

    private static int Cost(Activation act) => act switch { Activation.Silu => 4, Activation.Gelu => 16, _ => 1 };

    private static void Apply(Span<float> h, Span<float> scratch, Activation act)
    {
        switch (act)
        {
            case Activation.Relu: TensorPrimitives.Max(h, 0f, h); break;
            case Activation.Silu: NormMath.SiluInPlace(h, scratch); break;
            case Activation.Gelu: Activations.GeluForward(h, h); break;
        }
    }

    /// <summary>dst = g·act'(h).</summary>
    private static void Chain(ReadOnlySpan<float> g, ReadOnlySpan<float> h, Span<float> dst, Activation act)
    {
        switch (act)
        {
            case Activation.Relu:
                for (int i = 0; i < g.Length; i++) dst[i] = h[i] > 0f ? g[i] : 0f;
                break;
            case Activation.Silu:
                FastSigmoid.Compute(h, dst);
                NormMath.SiluChain(g, h, dst, dst);
                break;
            case Activation.Gelu:
                Activations.GeluBackward(h, g, dst);
                break;
        }
    }
}
