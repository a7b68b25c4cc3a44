using Cedm.Tensors;

namespace Cedm.Clustering;

/// <summary>
/// Synthetic features with known clusters, for checking clusterers and the bound search: K isotropic Gaussian
/// blobs in D dimensions, centres drawn N(0, centreSpread²·I), points centre + N(0, std²·I), labels 0..K−1
/// in equal shares (the first N mod K clusters get one extra), rows shuffled.
/// </summary>
public static class GaussianBlobs
{
    public static (Tensor Features, int[] Labels) Generate(int n, int k, int dim, Rng rng, float centreSpread = 4f, float std = 1f)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(n, k);
        ArgumentOutOfRangeException.ThrowIfLessThan(dim, 1);
        var centres = new float[k * dim];
        rng.FillNormal(centres, 0f, centreSpread);
        var labels = Enumerable.Range(0, n).Select(i => i % k).ToArray();
        for (int i = n - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (labels[i], labels[j]) = (labels[j], labels[i]);
        }
        var x = new float[n * dim];
        rng.FillNormal(x, 0f, std);
        for (int i = 0; i < n; i++)
            for (int c = 0; c < dim; c++) x[i * dim + c] += centres[labels[i] * dim + c];
        return (new Tensor(x, n, dim), labels);
    }
}
