using System.Numerics.Tensors;
using Cedm.Tensors.Native;

namespace Cedm.Tensors.Kernels;

/// <summary>
/// Double-precision row-major GEMM for the float64 statistics of Fréchet distances and PCA (spec §6.1):
/// OpenBLAS <c>cblas_dgemm</c> when it loads, otherwise a packed managed loop (<see cref="Managed"/>),
/// which is also the test oracle. Same argument conventions as <see cref="Gemm.Sgemm(bool, bool, int, int, int, float, ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, float, Span{float}, int)"/>.
/// </summary>
public static unsafe class GemmDouble
{
    /// <summary>Row-major <c>C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C</c> (beta == 0 ignores C's contents).</summary>
    public static void Dgemm(bool transA, bool transB, int m, int n, int k, double alpha,
        ReadOnlySpan<double> a, int lda, ReadOnlySpan<double> b, int ldb, double beta, Span<double> c, int ldc)
    {
        Check(a.Length, transA ? k : m, transA ? m : k, lda, nameof(a));
        Check(b.Length, transB ? n : k, transB ? k : n, ldb, nameof(b));
        Check(c.Length, m, n, ldc, nameof(c));
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0)
        {
            for (int i = 0; i < m; i++)
            {
                var row = c.Slice(i * ldc, n);
                if (beta == 0) row.Clear(); else TensorPrimitives.Multiply(row, beta, row);
            }
            return;
        }
        if (OpenBlas.HasDgemm && Gemm.ActiveBackend == GemmBackend.OpenBlas)
        {
            fixed (double* pa = a)
            fixed (double* pb = b)
            fixed (double* pc = c)
                OpenBlas.Dgemm(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
            return;
        }
        Managed(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>
    /// Packs op(A) as m×k rows and op(B)ᵀ as n×k rows so every C entry is one contiguous SIMD dot product;
    /// rows of C run in parallel. Slower than OpenBLAS but exact to double rounding.
    /// </summary>
    internal static void Managed(bool transA, bool transB, int m, int n, int k, double alpha,
        ReadOnlySpan<double> a, int lda, ReadOnlySpan<double> b, int ldb, double beta, Span<double> c, int ldc)
    {
        var ap = new double[(long)m * k];
        var bp = new double[(long)n * k];
        for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++) ap[(long)i * k + p] = transA ? a[p * lda + i] : a[i * lda + p];
        for (int j = 0; j < n; j++)
            for (int p = 0; p < k; p++) bp[(long)j * k + p] = transB ? b[j * ldb + p] : b[p * ldb + j];
        var result = new double[(long)m * n];
        Parallelism.ForEach(m, (long)n * k, i =>
        {
            var arow = ap.AsSpan((int)((long)i * k), k);
            for (int j = 0; j < n; j++)
                result[(long)i * n + j] = TensorPrimitives.Dot(arow, bp.AsSpan((int)((long)j * k), k));
        });
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                ref double cij = ref c[i * ldc + j];
                cij = beta == 0 ? alpha * result[(long)i * n + j] : alpha * result[(long)i * n + j] + beta * cij;
            }
    }

    private static void Check(int length, int rows, int cols, int ld, string name)
    {
        if (rows < 0 || cols < 0) throw new ArgumentException($"DGEMM: negative dimension for {name} ({rows}×{cols}).", name);
        if (ld < cols) throw new ArgumentException($"DGEMM: leading dimension {ld} of {name} is smaller than its row length {cols}.", name);
        if (rows > 0 && cols > 0 && length < (long)(rows - 1) * ld + cols)
            throw new ArgumentException($"DGEMM: {name} has {length} elements; a {rows}×{cols} matrix with ld={ld} needs {(long)(rows - 1) * ld + cols}.", name);
    }
}
