namespace Cedm.Tensors.Kernels;

/// <summary>
/// Fast group normalisation (optionally followed by SiLU in the same pass) on x seen as [N, C, S]
/// (S = product of the trailing spatial dims, 1 when there are none). The channels of one group are
/// contiguous in NCHW, so each (sample, group) pair is one block of (C/G)·S floats; pairs are independent
/// and run in parallel. Statistics are two-pass (mean, then Σ(x − μ)²) over a block that stays in cache,
/// accumulated in double per channel. Forward saves only μ and 1/σ per pair; the backward recomputes
/// x̂ (and the SiLU input) from x, which is cheaper than storing and re-reading them.
///
/// <para>Backward (per sample n, group g; M = (C/G)·S elements; x̂ = (x − μ)·r with r = 1/sqrt(var + eps);
/// h = γ_c·x̂ + β_c; y = h or SiLU(h)):</para>
/// <code>
///   g'   = dL/dh = dy                       (plain)
///        = dy · σ(h)·(1 + h·(1 − σ(h)))     (fused SiLU)
///   dβ_c = Σ_{n,s} g'            dγ_c = Σ_{n,s} g'·x̂
///   u    = dL/dx̂ = g'·γ_c
///   x̂ depends on x directly and through μ and var: ∂x̂_i/∂x_j = r·(δ_ij − 1/M − x̂_i·x̂_j/M), hence
///   dx_i = r·( u_i − mean(u) − x̂_i·mean(u·x̂) )   (means over the group's M elements)
/// </code>
/// With A = mean(u) = (1/M)Σ_c γ_c Σ_s g' and B = mean(u·x̂) = (r/M)Σ_c γ_c Σ_s g'·(x − μ), per channel
/// dx = r·(γ_c·g' − A) − (r²·B)·(x − μ), i.e. two streams combined with per-channel constants.
/// </summary>
internal static class GroupNormKernel
{
    /// <summary>Normalises <paramref name="x"/> into <paramref name="y"/>; writes μ and 1/σ per (n, group).</summary>
    public static void Forward(float[] x, float[] y, int n, int c, int s, int groups, float[]? gamma, float[]? beta,
        float eps, bool silu, double[] mean, float[] rstd)
    {
        int cg = c / groups, block = cg * s;
        Parallelism.For(n * groups, (start, len) =>
        {
            Span<float> scratch = stackalloc float[NormMath.Chunk];
            for (int p = start; p < start + len; p++)
            {
                int g = p % groups, off = p * block;
                var xb = x.AsSpan(off, block);
                double sum = 0;
                for (int i = 0; i < block; i += NormMath.Chunk)
                    sum += NormMath.SumShifted(xb.Slice(i, Math.Min(NormMath.Chunk, block - i)), xb[0]);
                double mean64 = sum / block;
                float mu = (float)mean64;
                double delta = mean64 - mu; // μ = mu + delta: the float rounding of μ, kept so |μ| ≫ σ stays exact
                double ss = 0;
                for (int i = 0; i < block; i += NormMath.Chunk)
                    ss += NormMath.SumSquaredDeviation(xb.Slice(i, Math.Min(NormMath.Chunk, block - i)), mu);
                // Σ(x − μ)² = Σ(x − mu)² − M·delta²  (since Σ(x − mu) = M·delta)
                float r = (float)(1.0 / Math.Sqrt(Math.Max(0.0, ss / block - delta * delta) + eps));
                mean[p] = mean64; rstd[p] = r;
                for (int k = 0; k < cg; k++)
                {
                    int ch = g * cg + k;
                    float scale = gamma == null ? r : gamma[ch] * r;
                    float shift = (float)((beta == null ? 0.0 : beta[ch]) - delta * scale);
                    for (int i = 0; i < s; i += NormMath.Chunk)
                    {
                        int m = Math.Min(NormMath.Chunk, s - i), o = off + k * s + i;
                        var dst = y.AsSpan(o, m);
                        NormMath.CentredAffine(x.AsSpan(o, m), mu, scale, shift, dst);
                        if (silu) NormMath.SiluInPlace(dst, scratch);
                    }
                }
            }
        }, MinPairsPerWorker(block, silu ? 4 : 1));
    }

    /// <summary>
    /// Gradients of <see cref="Forward"/>. <paramref name="gx"/> (same size as x) receives dx; with SiLU it is also
    /// the scratch for g', so pass it even when dx is not wanted. Per (n, channel) sums Σg' and Σg'·(x − μ) go to
    /// <paramref name="sumG"/>/<paramref name="sumGX"/> ([N·C]); <see cref="ReduceAffine"/> turns them into dγ, dβ.
    /// </summary>
    public static void Backward(float[] x, float[] dy, float[]? gx, int n, int c, int s, int groups, float[]? gamma, float[]? beta,
        bool silu, double[] mean, float[] rstd, double[] sumG, double[] sumGX)
    {
        int cg = c / groups, block = cg * s;
        if (silu && gx == null) throw new ArgumentException("Fused SiLU backward needs gx as scratch.", nameof(gx));
        Parallelism.For(n * groups, (start, len) =>
        {
            Span<float> h = stackalloc float[NormMath.Chunk];
            for (int p = start; p < start + len; p++)
            {
                int g = p % groups, ni = p / groups, off = p * block;
                float mu = (float)mean[p], r = rstd[p];
                double delta = mean[p] - mu;
                double a = 0, b = 0;
                for (int k = 0; k < cg; k++)
                {
                    int ch = g * cg + k;
                    float gm = gamma == null ? 1f : gamma[ch];
                    double sg = 0, sgx = 0;
                    for (int i = 0; i < s; i += NormMath.Chunk)
                    {
                        int m = Math.Min(NormMath.Chunk, s - i), o = off + k * s + i;
                        var xs = x.AsSpan(o, m);
                        ReadOnlySpan<float> gp = dy.AsSpan(o, m);
                        if (silu)
                        {
                            // Recompute h = γ·x̂ + β and σ(h); g' = dy·SiLU'(h) is parked in gx for the second pass.
                            var hs = h[..m];
                            NormMath.CentredAffine(xs, mu, gm * r, (float)((beta == null ? 0.0 : beta[ch]) - delta * gm * r), hs);
                            var sig = gx!.AsSpan(o, m);
                            FastSigmoid.Compute(hs, sig);
                            NormMath.SiluChain(gp, hs, sig, sig);
                            gp = sig;
                        }
                        var (s1, s2) = NormMath.CentredDot(gp, xs, mu);
                        sg += s1; sgx += s2 - delta * s1;
                    }
                    sumG[ni * c + ch] = sg; sumGX[ni * c + ch] = sgx;
                    a += gm * sg; b += gm * sgx;
                }
                if (gx == null) continue;
                float meanU = (float)(a / block), meanUX = (float)(b * r / block);
                for (int k = 0; k < cg; k++)
                {
                    int ch = g * cg + k;
                    float gm = gamma == null ? 1f : gamma[ch], c2 = -r * r * meanUX, c0 = (float)(-c2 * delta);
                    for (int i = 0; i < s; i += NormMath.Chunk)
                    {
                        int m = Math.Min(NormMath.Chunk, s - i), o = off + k * s + i;
                        var dst = gx.AsSpan(o, m);
                        ReadOnlySpan<float> gp = silu ? dst : dy.AsSpan(o, m);
                        NormMath.CombineCentred(gp, gm, meanU, r, x.AsSpan(o, m), mu, c2, c0, dst);
                    }
                }
            }
        }, MinPairsPerWorker(block, silu ? 6 : 2));
    }

    /// <summary>dβ_c = Σ_n Σg'[n,c] and dγ_c = Σ_n r[n,g]·Σg'(x − μ)[n,c].</summary>
    public static void ReduceAffine(int n, int c, int groups, float[] rstd, double[] sumG, double[] sumGX, float[]? dGamma, float[]? dBeta)
    {
        int cg = c / groups;
        for (int ch = 0; ch < c; ch++)
        {
            double gb = 0, gg = 0;
            for (int ni = 0; ni < n; ni++)
            {
                gb += sumG[ni * c + ch];
                gg += sumGX[ni * c + ch] * rstd[ni * groups + ch / cg];
            }
            if (dBeta != null) dBeta[ch] = (float)gb;
            if (dGamma != null) dGamma[ch] = (float)gg;
        }
    }

    /// <summary>Enough (n, group) pairs per worker that splitting pays (cost weights the SiLU's exp).</summary>
    private static int MinPairsPerWorker(int block, int cost) =>
        Math.Max(1, Parallelism.MinParallelElements / Math.Max(1, block * cost));
}
