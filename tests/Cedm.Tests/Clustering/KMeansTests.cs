using Cedm.Clustering;
using Cedm.Tensors;
using FluentAssertions;

namespace Cedm.Tests.Clustering;

public sealed class KMeansTests
{
    [Fact]
    public void RecoversWellSeparatedBlobs()
    {
        var (x, truth) = ClusterTestData.Blobs();
        var km = new KMeans(new KMeansOptions { K = 5 });
        var a = km.Fit(x, new Rng(3));
        ClusterTestData.Accuracy(a.Ids, truth).Should().BeGreaterThanOrEqualTo(0.95);
        a.Utilized.Should().Be(5);
        a.Probabilities.Should().BeNull("k-means is a hard method");
        a.Confidence.Should().OnlyContain(c => c > 0 && c <= 1);
        km.Result!.Converged.Should().BeTrue();
        // Inertia of the recovered partition ≈ N·D·σ² = 2000·8·1 for unit-variance blobs.
        km.Result.Inertia.Should().BeInRange(0.9 * 16000, 1.1 * 16000);
    }

    [Fact]
    public void SameSeedGivesIdenticalResults()
    {
        var (x, _) = ClusterTestData.Blobs(n: 1500, k: 6, spread: 2f, seed: 9);
        var o = new KMeansOptions { K = 6, NInit = 2 };
        var a = new KMeans(o).Fit(x, new Rng(42));
        var km = new KMeans(o);
        var b = km.Fit(x, new Rng(42));
        b.Ids.Should().Equal(a.Ids);
        b.Confidence.Should().Equal(a.Confidence);
        b.Options!["inertia"]!.GetValue<double>().Should().Be(a.Options!["inertia"]!.GetValue<double>());
    }

    [Fact]
    public void EmptyClusterIsRepairedWithTheFarthestPoint()
    {
        // Two tight groups and a start centre far from everything: that cluster is empty after the first assignment.
        var data = new List<float>();
        var rng = new Rng(5);
        for (int i = 0; i < 50; i++) data.AddRange([(float)rng.NextNormal() * 0.1f, (float)rng.NextNormal() * 0.1f]);
        for (int i = 0; i < 50; i++) data.AddRange([10 + (float)rng.NextNormal() * 0.1f, (float)rng.NextNormal() * 0.1f]);
        data.AddRange([5f, 8f]); // the outlier the repair should pick
        var x = data.ToArray();
        int n = x.Length / 2;
        float[] start = [0f, 0f, 10f, 0f, 1000f, 1000f];
        var r = KMeans.RunFrom(x, n, 2, start, 3, 100, 0);
        var sizes = new int[3];
        foreach (int l in r.Labels) sizes[l]++;
        sizes.Should().OnlyContain(s => s > 0);
        r.Labels[n - 1].Should().Be(2, "the farthest point seeds the empty cluster");
        r.Centers[4].Should().Be(5f);
        r.Centers[5].Should().Be(8f);
    }

    [Theory]
    [InlineData(5)]   // SmallKDistances, one pair of 8-lane tiles, 11 lanes of padding
    [InlineData(16)]  // SmallKDistances, one full pair of tiles
    [InlineData(23)]  // SmallKDistances, two pairs of tiles
    [InlineData(40)]  // GEMM blocks, vectorised argmin
    public void LloydPassMatchesANaiveAssignmentAndFloat64Sums(int k)
    {
        // 5,000 rows: two GEMM blocks, the second partial; 8 tasks of 625 rows, so each ends in a partial group of four
        // rows; d = 13 exercises the 8-wide widening add and its scalar tail.
        int n = 5000, d = 13;
        var (t, _) = ClusterTestData.Blobs(n: n, k: 7, d: d, spread: 3f, seed: 21);
        var x = t.Data;
        var centers = x.AsSpan(0, k * d).ToArray();
        var xNorms = x.Chunk(d).Select(r => r.Sum(v => v * v)).ToArray();
        var labels = Enumerable.Repeat(-1, n).ToArray();
        var minDist = new float[n];
        var sums = new double[k * d];
        var counts = new long[k];
        long changed = LloydPass.Run(x, xNorms, n, d, centers, k, labels, minDist, sums, counts);
        changed.Should().Be(n, "every label changed from −1");

        var expSums = new double[k * d];
        var expCounts = new long[k];
        for (int i = 0; i < n; i++)
        {
            var dd = Enumerable.Range(0, k).Select(c => Enumerable.Range(0, d).Sum(j => Math.Pow((double)x[i * d + j] - centers[c * d + j], 2))).ToArray();
            var sorted = dd.Order().ToArray();
            // The GEMM expansion may flip near-ties; elsewhere the label is the exact nearest centre.
            if (sorted[1] - sorted[0] > 1e-3 * (1 + sorted[0])) labels[i].Should().Be(Array.IndexOf(dd, sorted[0]), $"row {i}");
            minDist[i].Should().BeApproximately((float)dd[labels[i]], 1e-3f * (1 + (float)dd[labels[i]]));
            expCounts[labels[i]]++;
            for (int j = 0; j < d; j++) expSums[labels[i] * d + j] += x[i * d + j];
        }
        counts.Should().Equal(expCounts);
        for (int q = 0; q < k * d; q++) sums[q].Should().BeApproximately(expSums[q], 1e-9 * (1 + Math.Abs(expSums[q])));

        // Same centres again: no label changes; assignment-only mode leaves the sums alone.
        var again = (int[])labels.Clone();
        LloydPass.Run(x, xNorms, n, d, centers, k, again, minDist, null, null).Should().Be(0);
        again.Should().Equal(labels);
    }

    [Fact]
    public void CosineModeClustersDirectionsWhateverTheNorm()
    {
        // Three directions in 6-D, each point scaled by a random factor in [0.2, 5]: Euclidean k-means splits by norm.
        var rng = new Rng(11);
        int n = 900, d = 6;
        var dirs = new float[3 * d];
        rng.FillNormal(dirs);
        var x = new float[n * d];
        var truth = new int[n];
        for (int i = 0; i < n; i++)
        {
            int c = truth[i] = i % 3;
            float s = 0.2f + 4.8f * rng.NextFloat();
            for (int j = 0; j < d; j++) x[i * d + j] = s * (dirs[c * d + j] + 0.05f * (float)rng.NextNormal());
        }
        var t = new Tensor(x, n, d);
        var cos = new KMeans(new KMeansOptions { K = 3, Cosine = true });
        var a = cos.Fit(t, new Rng(1));
        ClusterTestData.Accuracy(a.Ids, truth).Should().BeGreaterThanOrEqualTo(0.99);
        var euclid = new KMeans(new KMeansOptions { K = 3 }).Fit(t, new Rng(1));
        ClusterTestData.Accuracy(euclid.Ids, truth).Should().BeLessThan(0.9);
        // The model normalises new rows too: scaling a row does not move it.
        var scaled = new Tensor(x.Select(v => v * 7f).ToArray(), n, d);
        cos.Model!.Predict(scaled).Ids.Should().Equal(a.Ids);
    }

    [Fact]
    public void ConfidenceIsScaleFreeAndFollowsTheDocumentedSoftmax()
    {
        var (x, _) = ClusterTestData.Blobs(n: 600, k: 4, d: 5, spread: 1.5f, seed: 4);
        var km = new KMeans(new KMeansOptions { K = 4 });
        var a = km.Fit(x, new Rng(2));
        var big = new KMeans(new KMeansOptions { K = 4 }).Fit(new Tensor(x.Data.Select(v => v * 100f).ToArray(), 600, 5), new Rng(2));
        big.Ids.Should().Equal(a.Ids);
        for (int i = 0; i < 600; i++) big.Confidence[i].Should().BeApproximately(a.Confidence[i], 2e-3f);
        // T = inertia / N, and the confidence of row 0 is softmax(−d²/T) at its own centre.
        double t = km.Result!.Inertia / 600;
        var c = km.Result.Centers;
        var d2 = Enumerable.Range(0, 4).Select(q => Enumerable.Range(0, 5).Sum(j => Math.Pow(x.Data[j] - c[q * 5 + j], 2))).ToArray();
        double expected = Math.Exp(-d2.Min() / t) / d2.Sum(v => Math.Exp(-v / t));
        a.Confidence[0].Should().BeApproximately((float)expected, 1e-4f);
        a.Confidence.Average(v => v).Should().BeInRange(0.3f, 0.999f, "overlapping blobs are not all certain");
    }

    [Fact]
    public void KEqualsOneAndKEqualsN()
    {
        var (x, _) = ClusterTestData.Blobs(n: 40, k: 2, d: 3, seed: 8);
        var one = new KMeans(new KMeansOptions { K = 1 }).Fit(x, new Rng(1));
        one.Ids.Should().OnlyContain(i => i == 0);
        one.Confidence.Should().OnlyContain(c => c == 1f);
        var all = new KMeans(new KMeansOptions { K = 40 });
        var a = all.Fit(x, new Rng(1));
        a.Utilized.Should().Be(40);
        all.Result!.Inertia.Should().Be(0);
        a.Confidence.Should().OnlyContain(c => float.IsFinite(c) && c > 0.99f);
    }

    [Fact]
    public void BadInputIsRejected()
    {
        var x = new Tensor(new float[] { 1, 2, 3, float.NaN, 5, 6 }, 3, 2);
        var act = () => new KMeans(new KMeansOptions { K = 2 }).Fit(x, new Rng(1));
        act.Should().Throw<ArgumentException>().WithMessage("*row 1, column 1*");
        var ok = new Tensor(new float[] { 1, 2, 3, 4 }, 2, 2);
        ((Action)(() => new KMeans(new KMeansOptions { K = 3 }).Fit(ok, new Rng(1)))).Should().Throw<ArgumentException>().WithMessage("*K = 3*N = 2*");
        ((Action)(() => new KMeans(new KMeansOptions { K = 0 }).Fit(ok, new Rng(1)))).Should().Throw<ArgumentException>();
        ((Action)(() => new KMeans(new KMeansOptions { K = 1 }).Fit(new Tensor(new float[4], 4), new Rng(1)))).Should().Throw<ArgumentException>().WithMessage("*rank 1*");
    }
}
