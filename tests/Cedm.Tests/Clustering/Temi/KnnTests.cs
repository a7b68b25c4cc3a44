using Cedm.Clustering;
using Cedm.Tensors;
using FluentAssertions;

namespace Cedm.Tests.Clustering.Temi;

public sealed class KnnTests
{
    /// <summary>Brute force in double: all cosine similarities, self excluded, sorted descending (ties: lower index).</summary>
    private static (int[,] Idx, double[,] Sim) BruteForce(Tensor x, int k)
    {
        int n = x.Dim(0), d = x.Dim(1);
        var norm = new double[n];
        for (int i = 0; i < n; i++) { double s = 0; for (int c = 0; c < d; c++) s += (double)x.Data[i * d + c] * x.Data[i * d + c]; norm[i] = Math.Sqrt(s); }
        var idx = new int[n, k];
        var sim = new double[n, k];
        for (int i = 0; i < n; i++)
        {
            var all = new List<(double S, int J)>();
            for (int j = 0; j < n; j++)
            {
                if (j == i) continue;
                double s = 0; for (int c = 0; c < d; c++) s += (double)x.Data[i * d + c] * x.Data[j * d + c];
                all.Add((s / (norm[i] * norm[j]), j));
            }
            var top = all.OrderByDescending(t => t.S).ThenBy(t => t.J).Take(k).ToArray();
            for (int t = 0; t < k; t++) { idx[i, t] = top[t].J; sim[i, t] = top[t].S; }
        }
        return (idx, sim);
    }

    [Theory]
    [InlineData(0)]    // one block
    [InlineData(37)]   // blocks that do not divide N
    public void MatchesBruteForceAcrossBlocks(int blockRows)
    {
        var x = Tensor.Randn(new Rng(7), [301, 12]);
        const int k = 9;
        var ours = Knn.CosineTopK(x, k, blockRows);
        var (idx, sim) = BruteForce(x, k);
        int n = x.Dim(0), d = x.Dim(1), mismatched = 0;
        for (int i = 0; i < n; i++)
            for (int t = 0; t < k; t++)
            {
                int j = ours[i, t];
                j.Should().NotBe(i, "a row is never its own neighbour");
                // The similarity at rank t must equal the brute-force one (float32 GEMM vs double: 1e-5).
                double s = 0, ni = 0, nj = 0;
                for (int c = 0; c < d; c++) { s += (double)x.Data[i * d + c] * x.Data[j * d + c]; ni += Math.Pow(x.Data[i * d + c], 2); nj += Math.Pow(x.Data[j * d + c], 2); }
                (s / Math.Sqrt(ni * nj)).Should().BeApproximately(sim[i, t], 1e-5, $"row {i} rank {t}");
                if (j != idx[i, t]) mismatched++;
            }
        // Indices may swap only between near-equal similarities; with random data that is (almost) never.
        mismatched.Should().BeLessThanOrEqualTo(2);
    }

    [Fact]
    public void TiesAreBrokenByLowerIndexAndZeroRowsDoNotBreakIt()
    {
        // Rows 1..3 are identical directions (ties for row 0); row 4 is zero (similarity 0 to everything).
        var x = new Tensor([1, 0, 2, 0, 3, 0, 5, 0, 0, 0, 0, 1], 6, 2);
        var nn = Knn.CosineTopK(x, 3);
        new[] { nn[0, 0], nn[0, 1], nn[0, 2] }.Should().Equal(1, 2, 3);
        new[] { nn[5, 0], nn[5, 1] }.Should().Equal(0, 1).And.NotContain(5);
        FluentActions.Invoking(() => Knn.CosineTopK(x, 6)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
