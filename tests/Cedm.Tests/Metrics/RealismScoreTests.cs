using Cedm.Metrics;
using Cedm.Tensors;
using FluentAssertions;

namespace Cedm.Tests.Metrics;

/// <summary>The per-sample realism score against a brute-force reading of its definition and on planted outliers.</summary>
public sealed class RealismScoreTests
{
    private static float[] Normal(int n, int d, Rng rng, double shift = 0) =>
        Enumerable.Range(0, n * d).Select(_ => (float)(shift + rng.NextNormal())).ToArray();

    [Fact]
    public void MatchesTheDefinitionComputedByBruteForce()
    {
        var rng = new Rng(5);
        int nReal = 41, nFake = 17, d = 3, k = 3;
        var real = Normal(nReal, d, rng);
        var fake = Normal(nFake, d, rng, shift: 0.5);
        double Dist(float[] a, int i, float[] b, int j) =>
            Math.Sqrt(Enumerable.Range(0, d).Sum(t => Math.Pow(a[i * d + t] - b[j * d + t], 2)));
        var radius = Enumerable.Range(0, nReal)
            .Select(j => Enumerable.Range(0, nReal).Where(m => m != j).Select(m => Dist(real, j, real, m)).Order().ElementAt(k - 1)).ToArray();
        double median = radius.Order().ElementAt(nReal / 2);   // odd count: the middle value
        var expected = Enumerable.Range(0, nFake)
            .Select(i => Enumerable.Range(0, nReal).Where(j => radius[j] <= median).Max(j => radius[j] / Dist(fake, i, real, j))).ToArray();
        var scores = RealismScore.Compute(real, nReal, fake, nFake, d, k);
        // Distances go through |a|² + |b|² − 2a·b (one GEMM), which costs digits against direct differences.
        for (int i = 0; i < nFake; i++) scores[i].Should().BeApproximately(expected[i], 1e-6 * Math.Max(1, expected[i]), $"sample {i}");
    }

    [Fact]
    public void PlantedOutliersScoreLowestAndBelowOne()
    {
        var rng = new Rng(8);
        int d = 4;
        var real = Normal(400, d, rng);
        var fake = Normal(60, d, rng).Concat(Normal(3, d, rng, shift: 12)).ToArray();
        var scores = RealismScore.Compute(real, 400, fake, 63, d);
        RealismScore.Worst(scores, 3).Should().BeEquivalentTo([60, 61, 62]);
        scores.Skip(60).Should().OnlyContain(r => r < 0.5, "12 standard deviations from every real ball");
        scores.Take(60).Count(r => r >= 1).Should().BeGreaterThan(30, "most samples of the real distribution lie inside a kept real ball");
        RealismScore.Compute(real, 400, real.AsSpan(0, 2 * d), 2, d).Should().OnlyContain(r => r == RealismScore.Cap || r >= 1,
            "a real vector scores at least 1 (capped where it is a kept ball's centre)");
        RealismScore.Median([3, 1, 2]).Should().Be(2);
        RealismScore.Median([4, 1, 2, 3]).Should().Be(2.5);
    }
}
