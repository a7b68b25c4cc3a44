using Cedm.Metrics.Clustering;
using FluentAssertions;

namespace Cedm.Tests.Metrics.Clustering;

/// <summary>Properties that hold for any labeling: invariances, symmetry, bounds, hand-computed values, validation.</summary>
public sealed class ClusteringScoresTests
{
    [Fact]
    public void ContingencyRelabelsDenselyAndCountsCells()
    {
        var c = Contingency.FromLabels([7L, 7, -2, 100, -2], [0L, 1, 1, 1, 1]);
        c.PredValues.Should().Equal(-2, 7, 100);
        c.TrueValues.Should().Equal(0, 1);
        c.RowSums.Should().Equal(2, 2, 1);
        c.ColSums.Should().Equal(1, 4);
        c.Cells.Should().Equal(new Contingency.Cell(0, 1, 2), new Contingency.Cell(1, 0, 1), new Contingency.Cell(1, 1, 1), new Contingency.Cell(2, 1, 1));
        c.ToDense().Should().Equal(0, 2, 1, 1, 0, 1);
    }

    [Fact]
    public void ScoresDependOnlyOnThePartitions()
    {
        var rng = new Random(3);
        var pred = Enumerable.Range(0, 300).Select(_ => (long)rng.Next(0, 8)).ToArray();
        var truth = pred.Select(p => rng.NextDouble() < 0.4 ? rng.Next(0, 5) : p % 5).ToArray();
        var s = ClusteringScores.Compute(pred, truth);
        var renamed = ClusteringScores.Compute(pred.Select(p => -1000 * p + 17).ToArray(), truth.Select(t => t * t * 3 + 1_000_000_000_000).ToArray());
        // Same partitions, so the same cells, visited in another order: equal up to summation rounding.
        (renamed.KPred, renamed.KTrue, renamed.N, renamed.Ari, renamed.Acc).Should().Be((s.KPred, s.KTrue, s.N, s.Ari, s.Acc));
        renamed.Nmi.Should().BeApproximately(s.Nmi, 1e-12);
        renamed.Ami.Should().BeApproximately(s.Ami, 1e-12);
        // NMI, AMI and ARI are symmetric in the two labelings; ACC is not (clusters map to classes).
        var swapped = ClusteringScores.Compute(truth, pred);
        swapped.Nmi.Should().BeApproximately(s.Nmi, 1e-12);
        swapped.Ami.Should().BeApproximately(s.Ami, 1e-12);
        swapped.Ari.Should().Be(s.Ari);
        s.Nmi.Should().BeInRange(0, 1);
        s.Acc.Should().BeInRange(0, 1);
    }

    [Fact]
    public void OverClusteringMapsUnmatchedClustersToTheirMajorityClass()
    {
        // M rows (clusters) × columns (classes): [5,1], [4,0], [3,0]. Optimal 1-1 total 5 is reached three ways;
        // matching [5,1]→0 and [3,0]→1 leaves [4,0] unmatched with majority 4: ACC = (5 + 0 + 4)/13.
        long[] pred = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2];
        long[] truth = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0];
        ClusterAccuracy.Compute(Contingency.FromLabels(pred, truth), out var classOf).Should().BeApproximately(9.0 / 13, 1e-15);
        classOf.Should().Equal(0, 0, 1);
        // A pure over-clustering is perfectly accurate; an under-clustering loses the merged class.
        ClusteringScores.Compute([0L, 1, 2, 3], [0L, 0, 1, 1]).Acc.Should().Be(1.0);
        ClusteringScores.Compute([0L, 0, 1, 1], [0L, 1, 2, 2]).Acc.Should().Be(0.75);
    }

    [Fact]
    public void HandComputedValues()
    {
        // [0,0,1,1] vs [0,0,1,2]: MI = ln 2, H = ln 2 and 1.5 ln 2 → NMI = 0.8; ARI (sklearn docstring) = 4/7.
        var s = ClusteringScores.Compute([0L, 0, 1, 2], [0L, 0, 1, 1]);
        s.Nmi.Should().BeApproximately(0.8, 1e-12);
        s.Ari.Should().BeApproximately(4.0 / 7, 1e-12);
        // Perfect anti-agreement example from sklearn's docstring: ARI −0.5.
        ClusteringScores.Compute([0L, 1, 0, 1], [0L, 0, 1, 1]).Ari.Should().BeApproximately(-0.5, 1e-12);
    }

    [Fact]
    public void ExpectedMutualInformationMatchesEnumerationOfAllPermutations()
    {
        // E[MI] over all N! relabelings of the items of one labeling, N = 7: the definition behind the formula.
        long[] u = [0, 0, 0, 1, 1, 2, 2];
        long[] v = [0, 0, 1, 1, 1, 1, 2];
        double sum = 0;
        int count = 0;
        foreach (var perm in Permutations(Enumerable.Range(0, 7).ToArray()))
        {
            sum += MutualInformation.Compute(Contingency.FromLabels(u, perm.Select(i => v[i]).ToArray()));
            count++;
        }
        ExpectedMutualInformation.Compute(Contingency.FromLabels(u, v)).Should().BeApproximately(sum / count, 1e-12);
    }

    [Theory]
    [InlineData(3, 4, 7)]
    [InlineData(600, 6000, 60_000)]
    [InlineData(30_000, 30_000, 60_000)]
    [InlineData(59_990, 59_000, 60_000)]
    [InlineData(1, 60_000, 60_000)]
    [InlineData(17, 5, 20)]
    public void TheModeWalkEqualsTheFullLogGammaSum(int a, int b, int n)
    {
        // The spec's formula term by term (every n in the valid range, each P from log-gamma) as the reference.
        static double LnFact(int k) => MathNet.Numerics.SpecialFunctions.GammaLn(k + 1.0);
        double reference = 0;
        for (int k = Math.Max(1, a + b - n); k <= Math.Min(a, b); k++)
        {
            double lnP = LnFact(a) + LnFact(b) + LnFact(n - a) + LnFact(n - b) - LnFact(n) - LnFact(k) - LnFact(a - k) - LnFact(b - k) - LnFact(n - a - b + k);
            reference += (double)k / n * Math.Log((double)n * k / ((double)a * b)) * Math.Exp(lnP);
        }
        ExpectedMutualInformation.CellExpectation(a, b, n).Should().BeApproximately(reference, 1e-12 + 1e-9 * Math.Abs(reference));
    }

    [Fact]
    public void InvalidInputsThrowWithBothLengths()
    {
        var mismatch = () => ClusteringScores.Compute(new long[3], new long[4]);
        mismatch.Should().Throw<ArgumentException>().WithMessage("*3 predicted*4 true*");
        var empty = () => ClusteringScores.Compute(Array.Empty<long>(), Array.Empty<long>());
        empty.Should().Throw<ArgumentException>().WithMessage("*empty*");
    }

    [Fact]
    public void OneClusterPerItemAgainstTenClassesIsCheapApartFromAcc()
    {
        // 60 000 singleton clusters: E[MI] groups equal cluster sizes, so it stays cheap; ACC is 60 000 × 10; only a 60 000 × 60 000 assignment is refused.
        var pred = Enumerable.Range(0, 60_000).Select(i => (long)i).ToArray();
        var truth = pred.Select(i => i % 10).ToArray();
        var s = ClusteringScores.Compute(pred, truth);
        s.Ami.Should().BeApproximately(0, 1e-9);
        s.Acc.Should().Be(1.0); // every singleton beyond the 10 matched ones takes its own (majority) class
        var huge = () => ClusterAccuracy.Compute(Contingency.FromLabels(pred, pred));
        huge.Should().Throw<ArgumentException>().WithMessage("*60000×60000*");
    }

    private static IEnumerable<int[]> Permutations(int[] items)
    {
        if (items.Length <= 1) { yield return items; yield break; }
        for (int i = 0; i < items.Length; i++)
            foreach (var rest in Permutations(items.Where((_, j) => j != i).ToArray()))
                yield return [items[i], .. rest];
    }
}
