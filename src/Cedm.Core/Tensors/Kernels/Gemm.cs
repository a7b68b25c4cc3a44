using Cedm.Tensors.Native;

namespace Cedm.Tensors.Kernels;

/// <summary>Which implementation <see cref="Gemm.Sgemm(bool, bool, int, int, int, float, ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, float, Span{float}, int)"/> runs.</summary>
public enum GemmBackend
{
    /// <summary>OpenBLAS when it loads, otherwise <see cref="Managed"/>.</summary>
    Auto,
    /// <summary>Native OpenBLAS <c>cblas_sgemm</c>.</summary>
    OpenBlas,
    /// <summary>The engine's own packed SIMD GEMM (<see cref="GemmManaged"/>).</summary>
    Managed,
    /// <summary>The plain triple loop; slow, for checking only.</summary>
    Reference,
}

/// <summary>
/// Single-precision matrix multiply used by the whole engine (linear layers, im2col convolution, attention).
/// This is the validation boundary: back-ends behind it trust their arguments.
/// </summary>
public static unsafe class Gemm
{
    /// <summary>The back-end the public Sgemm overload runs: <see cref="EnginePolicy.ActiveGemmBackend"/> of the current policy.</summary>
    public static GemmBackend ActiveBackend => EnginePolicy.Current.ActiveGemmBackend;

    /// <summary>
    /// Row-major <c>C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C</c>, op = transpose when <c>trans*</c>.
    /// <paramref name="lda"/>/<paramref name="ldb"/>/<paramref name="ldc"/> are the row strides of the
    /// stored (untransposed) matrices, as in CBLAS row-major: A is stored m×k (k×m when transA), B k×n (n×k when transB).
    /// Like BLAS, <paramref name="beta"/> == 0 ignores whatever C holds (even NaN), and
    /// <paramref name="alpha"/> == 0 or k == 0 reads neither A nor B.
    /// </summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
        => Sgemm(ActiveBackend, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

    /// <summary>
    /// Same as the public overload on an explicit back-end (tests/benchmarks compare back-ends without
    /// changing the policy of other running code).
    /// </summary>
    internal static void Sgemm(GemmBackend backend, bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        ThrowIfNegative(m, nameof(m));
        ThrowIfNegative(n, nameof(n));
        ThrowIfNegative(k, nameof(k));
        CheckMatrix(a.Length, transA ? k : m, transA ? m : k, lda, nameof(a), nameof(lda), transA ? "k×m (transA)" : "m×k");
        CheckMatrix(b.Length, transB ? n : k, transB ? k : n, ldb, nameof(b), nameof(ldb), transB ? "n×k (transB)" : "k×n");
        CheckMatrix(c.Length, m, n, ldc, nameof(c), nameof(ldc), "m×n");

        if (m == 0 || n == 0)
            return;
        // Only the element ranges actually touched count for overlap (callers may pass sub-views).
        Span<float> cUsed = c[..((m - 1) * ldc + n)];
        if (k > 0 && alpha != 0f && (cUsed.Overlaps(a) || cUsed.Overlaps(b)))
            throw new ArgumentException("Output C must not overlap input A or B.", nameof(c));

        if (k == 0 || alpha == 0f)
        {
            // Nothing to multiply: C = beta * C (the back-ends need not handle this; OpenBLAS rejects lda < 1 for k = 0).
            ScaleRows(m, n, beta, cUsed, ldc);
            return;
        }

        if (backend == GemmBackend.Auto)
            backend = OpenBlas.IsAvailable ? GemmBackend.OpenBlas : GemmBackend.Managed;
        switch (backend)
        {
            case GemmBackend.OpenBlas:
                fixed (float* pa = a)
                fixed (float* pb = b)
                fixed (float* pc = c)
                    OpenBlas.Sgemm(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
                break;
            case GemmBackend.Managed:
                GemmManaged.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
                break;
            case GemmBackend.Reference:
                GemmReference.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(backend), backend, "Unknown GEMM back-end.");
        }
    }

    /// <summary>C = beta * C over an m×n window (beta == 0 writes zeros, discarding NaN).</summary>
    internal static void ScaleRows(int m, int n, float beta, Span<float> c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            Span<float> row = c.Slice(i * ldc, n);
            if (beta == 0f)
                row.Clear();
            else if (beta != 1f)
                System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
    }

    private static void ThrowIfNegative(int value, string name)
    {
        if (value < 0)
            throw new ArgumentException($"GEMM dimension {name} must be >= 0 but was {value}.", name);
    }

    /// <summary>A stored rows×cols matrix with row stride ld needs ld >= cols and (rows-1)*ld + cols elements.</summary>
    private static void CheckMatrix(int length, int rows, int cols, int ld, string spanName, string ldName, string shape)
    {
        if (ld < cols || ld < 0)
            throw new ArgumentException(
                $"GEMM leading dimension {ldName}={ld} is smaller than the row length {cols} of {spanName} (stored {shape} = {rows}×{cols}).", ldName);
        if (rows == 0 || cols == 0)
            return;
        long needed = (long)(rows - 1) * ld + cols;
        if (length < needed)
            throw new ArgumentException(
                $"GEMM span {spanName} has {length} elements but a stored {shape} = {rows}×{cols} matrix with {ldName}={ld} needs {needed}.", spanName);
    }
}
