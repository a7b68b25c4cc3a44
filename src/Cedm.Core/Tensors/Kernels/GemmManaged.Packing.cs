namespace Cedm.Tensors.Kernels;

// Panel packing (the heart of the Goto/van de Geijn scheme): copy a block of op(A) / op(B) into the exact
// order the micro-kernel streams it, so the kernel reads both operands strictly sequentially from cache,
// whatever the transposes and leading dimensions were. Transposition is therefore handled only here.
// Partial micro-panels at the edges are zero-padded to full MR / NR, so the kernel never needs tail code
// in its k loop (the padded rows/columns produce results that the driver simply does not write back).
internal static unsafe partial class GemmManaged
{
    /// <summary>
    /// Packs op(A)[i0..i0+mc, p0..p0+kc] scaled by alpha into micro-panels of <paramref name="mr"/> rows:
    /// panel r holds, for each p, the mr values of column p (dst[r*kc*mr + p*mr + row]).
    /// </summary>
    private static void PackA(bool transA, float* a, nint lda, int i0, int p0, int mc, int kc, int mr, float alpha, float* dst)
    {
        for (int r0 = 0; r0 < mc; r0 += mr, dst += (nint)kc * mr)
        {
            int rows = Math.Min(mr, mc - r0);
            if (transA)
            {
                // Stored k x m: the mr values of one p are contiguous in memory -> straight row copies.
                for (int p = 0; p < kc; p++)
                {
                    float* src = a + (p0 + p) * lda + i0 + r0;
                    float* d = dst + (nint)p * mr;
                    int r = 0;
                    for (; r < rows; r++)
                        d[r] = alpha * src[r];
                    for (; r < mr; r++)
                        d[r] = 0f;
                }
            }
            else
            {
                // Stored m x k: walk each source row sequentially (friendly to the prefetcher)
                // and scatter with stride mr into the panel, which is small and stays in L1.
                for (int r = 0; r < rows; r++)
                {
                    float* src = a + (i0 + r0 + r) * lda + p0;
                    float* d = dst + r;
                    for (int p = 0; p < kc; p++)
                        d[(nint)p * mr] = alpha * src[p];
                }
                for (int r = rows; r < mr; r++)
                {
                    float* d = dst + r;
                    for (int p = 0; p < kc; p++)
                        d[(nint)p * mr] = 0f;
                }
            }
        }
    }

    /// <summary>
    /// Packs op(B)[p0..p0+kc, j0..j0+nc] into micro-panels of <paramref name="nr"/> columns:
    /// panel c holds, for each p, the nr values of row p (dst[c*kc*nr + p*nr + col]).
    /// </summary>
    private static void PackB(bool transB, float* b, nint ldb, int p0, int j0, int kc, int nc, int nr, float* dst)
    {
        for (int c0 = 0; c0 < nc; c0 += nr, dst += (nint)kc * nr)
        {
            int cols = Math.Min(nr, nc - c0);
            if (!transB)
            {
                // Stored k x n: the nr values of one p are contiguous -> block copies (memmove is vectorized).
                for (int p = 0; p < kc; p++)
                {
                    float* src = b + (p0 + p) * ldb + j0 + c0;
                    float* d = dst + (nint)p * nr;
                    new ReadOnlySpan<float>(src, cols).CopyTo(new Span<float>(d, cols));
                    if (cols < nr)
                        new Span<float>(d + cols, nr - cols).Clear();
                }
            }
            else
            {
                // Stored n x k: read each stored row (one output column) sequentially, scatter with stride nr.
                for (int col = 0; col < cols; col++)
                {
                    float* src = b + (j0 + c0 + col) * ldb + p0;
                    float* d = dst + col;
                    for (int p = 0; p < kc; p++)
                        d[(nint)p * nr] = src[p];
                }
                for (int col = cols; col < nr; col++)
                {
                    float* d = dst + col;
                    for (int p = 0; p < kc; p++)
                        d[(nint)p * nr] = 0f;
                }
            }
        }
    }
}
