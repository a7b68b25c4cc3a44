using MathNet.Numerics.LinearAlgebra;

namespace Cedm.Metrics;

/// <summary>Eigen-decomposition of a real symmetric matrix (MathNet's symmetric solver), in float64.</summary>
public static class SymmetricEigen
{
    /// <summary>
    /// Eigenvalues (ascending) and eigenvectors of the symmetric n×n row-major <paramref name="a"/>; vectors are
    /// returned row-major as the rows of Uᵀ (row i = eigenvector of value i). Only the lower triangle is trusted
    /// to be symmetric with the upper one; callers symmetrise first.
    /// </summary>
    public static (double[] Values, double[] VectorsTransposed) Decompose(double[] a, int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        if (a.Length != (long)n * n) throw new ArgumentException($"Expected {n}x{n} values, got {a.Length}.", nameof(a));
        // Row-major symmetric == column-major symmetric, so MathNet's column-major storage can take it as is.
        var m = Matrix<double>.Build.Dense(n, n, (double[])a.Clone());
        var evd = m.Evd(Symmetricity.Symmetric);
        var values = evd.EigenValues.Select(c => c.Real).ToArray();
        // Column-major storage of U read row-major is Uᵀ.
        var vt = evd.EigenVectors.ToColumnMajorArray();
        return (values, vt);
    }
}
