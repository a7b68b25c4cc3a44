using Cedm.Clustering;
using Cedm.Tensors;
using FluentAssertions;

namespace Cedm.Tests.Clustering;

public sealed class AgglomerativeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cedm-agglo-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ExactWardRecoversBlobs()
    {
        var (x, truth) = ClusterTestData.Blobs();
        var agg = new Agglomerative(new AgglomerativeOptions { K = 5 });
        var a = agg.Fit(x, new Rng(1));
        ClusterTestData.Accuracy(a.Ids, truth).Should().BeGreaterThanOrEqualTo(0.95);
        agg.Tree!.Leaves.Should().Be(2000);
        agg.Tree.LeafOfPoint.Should().BeNull();
        agg.Tree.Merges[^1].Size.Should().Be(2000);
        a.Confidence.Should().OnlyContain(c => c > 0 && c <= 1);
        a.Options!["exact"]!.GetValue<bool>().Should().BeTrue();
    }

    [Fact]
    public void HeightsEqualANaiveWardOnSmallData()
    {
        // Naive Ward: repeatedly merge the pair with the smallest increase of the within-cluster sum of squares;
        // height = sqrt(2 ΔSSE) (scipy's convention). O(n³), fine for 25 points.
        var rng = new Rng(21);
        int n = 25, d = 3;
        var x = new float[n * d];
        rng.FillNormal(x);
        var clusters = Enumerable.Range(0, n).Select(i => new List<int> { i }).ToList();
        var naive = new List<double>();
        double Sse(List<int> c)
        {
            double s = 0;
            for (int j = 0; j < d; j++)
            {
                double m = c.Average(i => (double)x[i * d + j]);
                s += c.Sum(i => Math.Pow(x[i * d + j] - m, 2));
            }
            return s;
        }
        while (clusters.Count > 1)
        {
            (int A, int B, double Delta) best = (0, 0, double.MaxValue);
            for (int a = 0; a < clusters.Count; a++)
                for (int b = a + 1; b < clusters.Count; b++)
                {
                    double delta = Sse([.. clusters[a], .. clusters[b]]) - Sse(clusters[a]) - Sse(clusters[b]);
                    if (delta < best.Delta) best = (a, b, delta);
                }
            naive.Add(Math.Sqrt(2 * best.Delta));
            clusters[best.A].AddRange(clusters[best.B]);
            clusters.RemoveAt(best.B);
        }
        var agg = new Agglomerative(new AgglomerativeOptions { K = 2 });
        agg.Fit(new Tensor(x, n, d), new Rng(1));
        var heights = agg.Tree!.Merges.Select(m => m.Height).ToArray();
        heights.Should().BeInAscendingOrder();
        for (int i = 0; i < n - 1; i++) heights[i].Should().BeApproximately(naive[i], 1e-4 * (1 + naive[i]));
    }

    [Fact]
    public void CutsGiveKClustersAndAreNested()
    {
        var (x, _) = ClusterTestData.Blobs(n: 400, k: 6, d: 4, spread: 3f, seed: 3);
        var agg = new Agglomerative(new AgglomerativeOptions { K = 6 });
        agg.Fit(x, new Rng(1));
        var tree = agg.Tree!;
        int[]? coarser = null;
        for (int k = 1; k <= 30; k++)
        {
            var ids = tree.Cut(k);
            ids.Distinct().Count().Should().Be(k);
            ids.Max().Should().Be(k - 1);
            if (coarser != null)
            {
                // Every cluster of the finer cut lies inside one cluster of the coarser cut.
                for (int c = 0; c < k; c++)
                    Enumerable.Range(0, ids.Length).Where(i => ids[i] == c).Select(i => coarser[i]).Distinct().Should().HaveCount(1);
            }
            coarser = ids;
        }
        tree.Cut(400).Distinct().Count().Should().Be(400);
        ((Action)(() => tree.Cut(401))).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void LargeNUsesWeightedWardOverMicroClusters()
    {
        var (x, truth) = ClusterTestData.Blobs(n: 3000);
        var agg = new Agglomerative(new AgglomerativeOptions { K = 5, ExactLimit = 1000, MicroClusters = 120 });
        var a = agg.Fit(x, new Rng(2));
        ClusterTestData.Accuracy(a.Ids, truth).Should().BeGreaterThanOrEqualTo(0.95);
        var tree = agg.Tree!;
        tree.Leaves.Should().BeInRange(100, 120);
        tree.LeafOfPoint.Should().HaveCount(3000);
        tree.Merges[^1].Size.Should().Be(3000, "merge sizes count points, not micro-clusters");
        a.Options!["exact"]!.GetValue<bool>().Should().BeFalse();
        tree.Cut(5).Should().Equal(a.Ids);
    }

    [Fact]
    public void TreeRoundTripsThroughJson()
    {
        var (x, _) = ClusterTestData.Blobs(n: 3000, k: 4, d: 3);
        var agg = new Agglomerative(new AgglomerativeOptions { K = 4, ExactLimit = 500, MicroClusters = 50 });
        agg.Fit(x, new Rng(2));
        string path = Path.Combine(_dir, ClusterTree.FileName);
        agg.Tree!.Save(path);
        var back = ClusterTree.Load(path);
        back.Merges.Should().Equal(agg.Tree.Merges);
        back.LeafOfPoint.Should().Equal(agg.Tree.LeafOfPoint);
        for (int k = 1; k <= 10; k++) back.Cut(k).Should().Equal(agg.Tree.Cut(k));
        File.WriteAllText(path, "{\"leaves\": 3, \"merges\": [[0, 7, 1.0, 2], [2, 3, 2.0, 3]]}");
        ((Action)(() => ClusterTree.Load(path))).Should().Throw<ArgumentException>().WithMessage("*merge 0*");
    }
}
