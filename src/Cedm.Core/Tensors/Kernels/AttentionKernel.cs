using System.Buffers;
using System.Numerics.Tensors;

namespace Cedm.Tensors.Kernels;

/// <summary>
/// Softmax attention per (batch·head) slice as three GEMMs plus a row softmax, in two storage layouts:
/// <list type="bullet">
/// <item>channel-major (the UNet's spatial attention, spec §2.2): q, k, v are [d, T] matrices read in place out of
/// the qkv conv output with row stride 3T (the reference's <c>reshape(B·heads, d, 3, T)</c> puts q, k, v of one
/// channel next to each other), output [d, T];</item>
/// <item>token-major (ViT-style): q [Tq, d], k [Tk, d], v [Tk, dv], output [Tq, dv].</item>
/// </list>
/// The attention weights W = softmax(scale·QKᵀ) are kept for the backward (as PyTorch does):
/// with G = dL/dO, dW = G·Vᵀ, dS = W ⊙ (dW − rowsum(dW ⊙ W)), dQ = scale·dS·K, dK = scale·dSᵀ·Q, dV = Wᵀ·G
/// (written below in whichever transposition the layout stores). How slices share the threads: see ForSlices.
/// </summary>
internal static class AttentionKernel
{
    /// <summary>
    /// Spatial forward: qkv [BH, d, 3, T] (flat), out [BH, d, T], weights [BH, T, T] kept for the backward, or null
    /// when nothing will run backward (each worker then reuses one [T, T] block that stays in cache).
    /// </summary>
    public static void SpatialForward(float[] qkv, float[] output, float[]? weights, int bh, int d, int t, float scale)
    {
        int ld = 3 * t;
        ForSlices(bh, weights is null ? t * t : 0, (p, plan, scratch) =>
        {
            int qOff = p * d * ld;
            var (wArr, wOff) = weights is null ? (scratch, 0) : (weights, p * t * t);
            var w = wArr.AsSpan(wOff, t * t);
            // S[i,j] = scale·Σ_c q[c,i]·k[c,j]  (qᵀ·k)
            plan.Sgemm(true, false, t, t, d, scale, qkv.AsSpan(qOff), ld, qkv.AsSpan(qOff + t), ld, 0f, w, t);
            SoftmaxRows(plan, wArr, wOff, t, t);
            // a[c,i] = Σ_j v[c,j]·W[i,j]  (v·Wᵀ)
            plan.Sgemm(false, true, d, t, t, 1f, qkv.AsSpan(qOff + 2 * t), ld, w, t, 0f, output.AsSpan(p * d * t, d * t), t);
        });
    }

    /// <summary>Spatial backward into gqkv (fully overwritten) from the output gradient dOut [BH, d, T].</summary>
    public static void SpatialBackward(float[] qkv, float[] weights, float[] dOut, float[] gqkv, int bh, int d, int t, float scale)
    {
        int ld = 3 * t;
        ForSlices(bh, t * t, (p, plan, dw) =>
        {
            int qOff = p * d * ld;
            var w = weights.AsSpan(p * t * t, t * t);
            var g = dOut.AsSpan(p * d * t, d * t);
            // dW[i,j] = Σ_c g[c,i]·v[c,j]  (gᵀ·v)
            plan.Sgemm(true, false, t, t, d, 1f, g, t, qkv.AsSpan(qOff + 2 * t), ld, 0f, dw, t);
            // dv[c,j] = Σ_i g[c,i]·W[i,j]  (g·W)
            plan.Sgemm(false, false, d, t, t, 1f, g, t, w, t, 0f, gqkv.AsSpan(qOff + 2 * t), ld);
            SoftmaxBackwardRows(plan, weights, p * t * t, dw, t, t);
            // dq[c,i] = scale·Σ_j k[c,j]·dS[i,j]  (k·dSᵀ);  dk[c,j] = scale·Σ_i q[c,i]·dS[i,j]  (q·dS)
            plan.Sgemm(false, true, d, t, t, scale, qkv.AsSpan(qOff + t), ld, dw, t, 0f, gqkv.AsSpan(qOff), ld);
            plan.Sgemm(false, false, d, t, t, scale, qkv.AsSpan(qOff), ld, dw, t, 0f, gqkv.AsSpan(qOff + t), ld);
        });
    }

    /// <summary>
    /// Token-major forward: q [B, Tq, d], k [B, Tk, d], v [B, Tk, dv] → out [B, Tq, dv], weights [B, Tq, Tk] kept for the
    /// backward, or null (one reused block per worker).
    /// </summary>
    public static void TokenForward(float[] q, float[] k, float[] v, float[] output, float[]? weights, int b, int tq, int tk, int d, int dv, float scale)
    {
        ForSlices(b, weights is null ? tq * tk : 0, (p, plan, scratch) =>
        {
            var (wArr, wOff) = weights is null ? (scratch, 0) : (weights, p * tq * tk);
            var w = wArr.AsSpan(wOff, tq * tk);
            plan.Sgemm(false, true, tq, tk, d, scale, q.AsSpan(p * tq * d, tq * d), d, k.AsSpan(p * tk * d, tk * d), d, 0f, w, tk);
            SoftmaxRows(plan, wArr, wOff, tq, tk);
            plan.Sgemm(false, false, tq, dv, tk, 1f, w, tk, v.AsSpan(p * tk * dv, tk * dv), dv, 0f, output.AsSpan(p * tq * dv, tq * dv), dv);
        });
    }

    /// <summary>Token-major backward; each of gq/gk/gv may be null when that input needs no gradient.</summary>
    public static void TokenBackward(float[] q, float[] k, float[] v, float[] weights, float[] dOut, float[]? gq, float[]? gk, float[]? gv,
        int b, int tq, int tk, int d, int dv, float scale)
    {
        ForSlices(b, tq * tk, (p, plan, dw) =>
        {
            var w = weights.AsSpan(p * tq * tk, tq * tk);
            var g = dOut.AsSpan(p * tq * dv, tq * dv);
            if (gv != null) plan.Sgemm(true, false, tk, dv, tq, 1f, w, tk, g, dv, 0f, gv.AsSpan(p * tk * dv, tk * dv), dv);
            if (gq == null && gk == null) return;
            plan.Sgemm(false, true, tq, tk, dv, 1f, g, dv, v.AsSpan(p * tk * dv, tk * dv), dv, 0f, dw, tk);
            SoftmaxBackwardRows(plan, weights, p * tq * tk, dw, tq, tk);
            if (gq != null) plan.Sgemm(false, false, tq, d, tk, scale, dw, tk, k.AsSpan(p * tk * d, tk * d), d, 0f, gq.AsSpan(p * tq * d, tq * d), d);
            if (gk != null) plan.Sgemm(true, false, tk, d, tq, scale, dw, tk, q.AsSpan(p * tq * d, tq * d), d, 0f, gk.AsSpan(p * tk * d, tk * d), d);
        });
    }

    /// <summary>
    /// How one slice's work is threaded: either the whole slice on one worker (single-threaded managed GEMMs, rows of
    /// the softmax in a plain loop) or slices one after another with every GEMM and softmax using all threads.
    /// </summary>
    private readonly record struct SlicePlan(bool PerWorker)
    {
        public void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
            ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
        {
            if (PerWorker) GemmManaged.Sgemm(ManagedKernel.Auto, 1, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            else Gemm.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        }
    }

    /// <summary>
    /// Runs body(slice, plan, scratch) for every slice. With at least as many slices as threads each worker takes whole
    /// slices: a UNet's 8×8 attention has 64 tokens, so one slice's GEMMs are ~0.5 MFLOP and a threaded GEMM would spend
    /// more on forking and joining than on arithmetic. Each slice is then computed by one thread in a fixed order, so
    /// results do not depend on how many workers share the slices. <paramref name="scratchFloats"/> &gt; 0 gives each worker its own buffer.
    /// </summary>
    private static void ForSlices(int slices, int scratchFloats, Action<int, SlicePlan, float[]> body)
    {
        int threads = EnginePolicy.Current.Threads;
        bool perWorker = threads > 1 && slices >= threads;
        int workers = perWorker ? Math.Min(threads, slices) : 1;
        var plan = new SlicePlan(perWorker);
        void Worker(int w)
        {
            var scratch = scratchFloats > 0 ? ArrayPool<float>.Shared.Rent(scratchFloats) : [];
            for (int p = w; p < slices; p += workers) body(p, plan, scratch);
            if (scratchFloats > 0) ArrayPool<float>.Shared.Return(scratch);
        }
        if (workers == 1) Worker(0);
        else Parallel.For(0, workers, EnginePolicy.Current.ParallelOptions, Worker);
    }

    /// <summary>Row-wise max-shifted softmax in place on a [rows, cols] block at <paramref name="off"/>.</summary>
    private static void SoftmaxRows(SlicePlan plan, float[] w, int off, int rows, int cols)
    {
        RowsFor(plan, rows, cols, (start, len) =>
        {
            for (int i = start; i < start + len; i++)
            {
                var row = w.AsSpan(off + i * cols, cols);
                TensorPrimitives.Subtract(row, TensorPrimitives.Max<float>(row), row);
                TensorPrimitives.Exp(row, row);
                TensorPrimitives.Multiply(row, 1f / TensorPrimitives.Sum<float>(row), row);
            }
        });
    }

    /// <summary>dW (in <paramref name="dw"/>) becomes dS = W ⊙ (dW − Σ_j dW·W) row by row.</summary>
    private static void SoftmaxBackwardRows(SlicePlan plan, float[] w, int off, float[] dw, int rows, int cols)
    {
        RowsFor(plan, rows, cols, (start, len) =>
        {
            for (int i = start; i < start + len; i++)
            {
                var wr = w.AsSpan(off + i * cols, cols);
                var dr = dw.AsSpan(i * cols, cols);
                float dot = TensorPrimitives.Dot<float>(wr, dr);
                TensorPrimitives.Subtract(dr, dot, dr);
                TensorPrimitives.Multiply(dr, wr, dr);
            }
        });
    }

    private static void RowsFor(SlicePlan plan, int rows, int cols, Action<int, int> body)
    {
        if (plan.PerWorker) body(0, rows);
        else Parallelism.For(rows, body, Math.Max(1, Parallelism.MinParallelElements / 8 / Math.Max(1, cols)));
    }
}
