namespace Cedm.Tensors.Kernels;

/// <summary>
/// The readable specification of <see cref="Gemm.Sgemm(bool, bool, int, int, int, float, ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, float, Span{float}, int)"/>: a plain triple loop with double accumulation.
/// It is the test oracle for the fast back-ends, never used for speed.
/// Arguments are assumed validated by <see cref="Gemm"/>.
/// </summary>
internal static class GemmReference
{
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    // op(A)[i,p] and op(B)[p,j] read from the stored (row-major) matrices.
                    float av = transA ? a[p * lda + i] : a[i * lda + p];
                    float bv = transB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += (double)av * bv;
                }
                ref float cij = ref c[i * ldc + j];
                // BLAS convention: beta == 0 means C is write-only (NaN/Inf already in C must not leak).
                cij = beta == 0f ? (float)(alpha * sum) : (float)(alpha * sum + (double)beta * cij);
            }
        }
    }
}
