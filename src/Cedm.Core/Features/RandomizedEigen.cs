using Cedm.Tensors;
using Cedm.Tensors.Kernels;
using MathNet.Numerics.LinearAlgebra;

namespace Cedm.Features;

/// <summary>
/// Top eigenpairs of a large symmetric PSD matrix by randomized subspace iteration (Halko, Martinsson &amp; Tropp
/// 2011, Algorithm 4.4): Q = orth(C Ω) refined by power iterations, then the small EVD of Qᵀ C Q. Used by
/// <see cref="PcaFeatures"/> when the pixel count makes a full EVD slow (e.g. 32×32×3 = 3072).
/// </summary>
internal static class RandomizedEigen
{
    public const int Oversampling = 16;
    public const int PowerIterations = 6;

    public static (double[] Values, double[] Vectors) Top(double[] c, int n, int d, Rng rng)
    {
        int l = Math.Min(n, d + Oversampling);
        var y = new double[(long)n * l];                    // [n, l] row-major
        for (int i = 0; i < y.Length; i++) y[i] = rng.NextNormal();
        var q = Orthonormalise(y, n, l);
        for (int it = 0; it < PowerIterations; it++)
        {
            GemmDouble.Dgemm(false, false, n, l, n, 1.0, c, n, q, l, 0.0, y, l);   // Y = C Q
            q = Orthonormalise(y, n, l);
        }
        // B = Qᵀ C Q  [l, l]
        GemmDouble.Dgemm(false, false, n, l, n, 1.0, c, n, q, l, 0.0, y, l);
        var b = new double[(long)l * l];
        GemmDouble.Dgemm(true, false, l, l, n, 1.0, q, l, y, l, 0.0, b, l);
        for (int i = 0; i < l; i++)
            for (int j = i + 1; j < l; j++) b[i * l + j] = b[j * l + i] = 0.5 * (b[i * l + j] + b[j * l + i]);
        var (values, vt) = Metrics.SymmetricEigen.Decompose(b, l);        // ascending; vt rows = eigenvectors of B
        var top = new double[d];
        var vectors = new double[(long)d * n];
        for (int k = 0; k < d; k++)
        {
            int src = l - 1 - k;
            top[k] = values[src];
            // eigenvector of C ≈ Q v  (row k of the result = Σ_j Q[:, j] v[j])
            for (int i = 0; i < n; i++)
            {
                double s = 0;
                for (int j = 0; j < l; j++) s += q[(long)i * l + j] * vt[(long)src * l + j];
                vectors[(long)k * n + i] = s;
            }
        }
        return (top, vectors);
    }

    /// <summary>Thin QR's Q of the row-major [rows, cols] matrix, returned row-major.</summary>
    private static double[] Orthonormalise(double[] a, int rows, int cols)
    {
        var m = Matrix<double>.Build.Dense(rows, cols, (i, j) => a[(long)i * cols + j]);
        var q = m.QR(MathNet.Numerics.LinearAlgebra.Factorization.QRMethod.Thin).Q;
        var result = new double[(long)rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) result[(long)i * cols + j] = q[i, j];
        return result;
    }
}
