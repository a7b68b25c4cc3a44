using Cedm.Clustering;
using Cedm.Clustering.Bounds;
using Cedm.Tensors;
using FluentAssertions;
using Xunit.Abstractions;

namespace Cedm.Tests.Clustering.Temi;

public sealed class ClusterBoundSearchTests(ITestOutputHelper output)
{
    // 10 000 rows: the data cap (N / 50 = 200) stays above every K of the logic tests unless a test lowers it.
    private static readonly Tensor Dummy = Tensor.Zeros(10000, 2);

    [Fact]
    public void DoublesThenSearchesTheGridBetweenLastPassAndFirstFail()
    {
        // r(K) = 1 up to K = 13, then K_used stays 13: passes (τ = 0.9) up to K = 14.
        var search = new ClusterBoundSearch(new BoundOptions { K0 = 2, GridPoints = 3, Threshold = 0.9 }) { UtilizedAt = (k, _) => Math.Min(k, 13) };
        var r = search.Run(Dummy);
        r.Table.Select(t => t.K).Should().Equal(2, 4, 8, 16, 10, 12, 14);
        r.Table.Select(t => t.Phase).Should().Equal("double", "double", "double", "double", "grid", "grid", "grid");
        r.KUpper.Should().Be(14);
        (r.Stop, r.Crossed, r.Refined, r.Capped, r.CappedAtMaxK).Should().Be((BoundStop.Threshold, true, true, false, false));
        r.KLower.Should().BeNull();
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public void RoundsOfSeveralKsFindTheKUpperOfOneAtATime(int width)
    {
        // Rounds are how R ranks share the search: each tries the next `width` Ks at once. Curves: a clean crossing, a
        // non-monotone r(K) whose Ks past the first failure pass again (they must not raise K_UB), a halving, the cap.
        var curves = new (BoundOptions Options, Func<int, int> Used)[]
        {
            (new() { K0 = 2, GridPoints = 3, Threshold = 0.9 }, k => Math.Min(k, 13)),
            (new() { K0 = 2, GridPoints = 3, Threshold = 0.9 }, k => k is > 8 and < 40 ? k / 2 : k),
            (new() { K0 = 40, GridPoints = 2 }, k => Math.Min(k, 6)),
            (new() { K0 = 4, MaxK = 20 }, k => k),
        };
        foreach (var (options, used) in curves)
        {
            var one = new ClusterBoundSearch(options) { UtilizedAt = (k, _) => used(k) }.Run(Dummy);
            var rounds = new ClusterBoundSearch(options) { UtilizedAt = (k, _) => used(k), RoundWidth = width }.Run(Dummy);
            (rounds.KUpper, rounds.Stop, rounds.Crossed, rounds.Refined).Should().Be((one.KUpper, one.Stop, one.Crossed, one.Refined), $"width {width}, K0 {options.K0}");
            rounds.Table.Select(t => (t.K, t.Utilized, t.Phase)).Should().Contain(one.Table.Select(t => (t.K, t.Utilized, t.Phase)), "every K one process tries is tried");
            rounds.Table.Select(t => t.K).Should().OnlyHaveUniqueItems();
        }
    }

    [Fact]
    public void HalvesWhenK0AlreadyFailsAndCapsAtMaxK()
    {
        var halving = new ClusterBoundSearch(new BoundOptions { K0 = 40, GridPoints = 1 }) { UtilizedAt = (k, _) => Math.Min(k, 6) };
        var r = halving.Run(Dummy);
        r.Table.Select(t => t.K).Should().Equal(40, 20, 10, 5, 8);     // 5 passes, grid point 8 between 5 and 10 fails
        r.Table.Select(t => t.Phase).Should().Equal("double", "halve", "halve", "halve", "grid");
        r.KUpper.Should().Be(5);

        // The doubling would jump over the cap (32 > 20): the cap itself is tried, then the search stops there.
        var capped = new ClusterBoundSearch(new BoundOptions { K0 = 4, MaxK = 20 }) { UtilizedAt = (k, _) => k }.Run(Dummy);
        capped.Table.Select(t => t.K).Should().Equal(4, 8, 16, 20);
        (capped.KUpper, capped.CappedAtMaxK, capped.Stop, capped.Crossed).Should().Be((20, true, BoundStop.MaxK, false));
    }

    [Fact]
    public void LowerBoundIsTheUtilisationOfTheBetaOneRunAtTwiceTheUpperBound()
    {
        var betas = new List<(int K, double Beta)>();
        var r = new ClusterBoundSearch(new BoundOptions { K0 = 4, Lower = true, Threshold = 0.9 })
        {
            UtilizedAt = (k, beta) => { betas.Add((k, beta)); return beta == 1.0 ? Math.Min(k, 5) : Math.Min(k, 9); },
        }.Run(Dummy);
        r.KUpper.Should().Be(10);                 // 9/10 = 0.9 passes at τ = 0.9
        r.LowerRun!.K.Should().Be(20);
        r.KLower.Should().Be(5);
        betas.Where(b => b.Beta == 1.0).Should().ContainSingle().Which.K.Should().Be(20);
        betas.Where(b => b.Beta != 1.0).Should().OnlyContain(b => b.Beta == 0.6);
    }

    [Fact]
    public void DataCapStopsTheDoublingAtRowsPerClusterAndIsReported()
    {
        // Every K fully used: only the data cap can stop it. 10 000 rows / 300 per cluster = 33.
        var r = new ClusterBoundSearch(new BoundOptions { K0 = 4, MinRowsPerCluster = 300 }) { UtilizedAt = (k, _) => k }.Run(Dummy);
        r.Table.Select(t => t.K).Should().Equal(4, 8, 16, 32, 33);
        (r.KUpper, r.Stop, r.Capped, r.DataCapK, r.Crossed).Should().Be((33, BoundStop.DataCap, true, 33, false));

        // A subsample searched for a bigger data set: the cap counts the data set's rows.
        var sub = new ClusterBoundSearch(new BoundOptions { K0 = 4, MinRowsPerCluster = 300, DataRows = 60000 }) { UtilizedAt = (k, _) => k }.Run(Dummy);
        (sub.KUpper, sub.DataCapK, sub.DataRows, sub.Rows).Should().Be((200, 200, 60000, 10000));

        // A crossing below the cap is a binding bound, not a capped one.
        var binds = new ClusterBoundSearch(new BoundOptions { K0 = 4, MinRowsPerCluster = 300, GridPoints = 1 }) { UtilizedAt = (k, _) => Math.Min(k, 20) }.Run(Dummy);
        (binds.KUpper, binds.Stop).Should().Be((16, BoundStop.Threshold));   // 32 and the grid point 24 fail
    }

    [Fact]
    public void TimeBudgetStopsBeforeARunThatWouldEndPastItAndIsReported()
    {
        // Fake clock: each run at K takes K/2 s and the search's elapsed time is the sum of the runs.
        double Search(BoundOptions o, Func<int, int> used, out BoundResult result)
        {
            double elapsed = 0;
            result = new ClusterBoundSearch(o)
            {
                UtilizedAt = (k, _) => used(k),
                SecondsOf = k => k / 2.0,
                RowFinished = row => elapsed += row.Seconds,
                ElapsedOverride = () => elapsed,
            }.Run(Dummy);
            return elapsed;
        }

        // Runs 4, 8, 16 take 2 + 4 + 8 = 14 s; the next (32) would start at 14 with the slowest run 8 s: 22 > 20.
        double spent = Search(new BoundOptions { K0 = 4, TimeBudgetSeconds = 20 }, k => k, out var r);
        r.Table.Select(t => t.K).Should().Equal(4, 8, 16);
        (r.KUpper, r.Stop, r.Capped, r.Crossed, r.TimeBudgetSeconds).Should().Be((16, BoundStop.TimeBudget, true, false, 20.0));
        spent.Should().BeLessThanOrEqualTo(20);

        // Crossed at 32 (14 + 16 = 30 s spent), then the grid (20, 24, 28) gets one run before 30 + 16 > 50.
        Search(new BoundOptions { K0 = 4, TimeBudgetSeconds = 50 }, k => Math.Min(k, 25), out var g);
        g.Table.Select(t => t.K).Should().Equal(4, 8, 16, 32, 20);
        (g.KUpper, g.Stop, g.Crossed, g.Refined).Should().Be((20, BoundStop.TimeBudget, true, false));
    }

    [Theory]
    [InlineData(300, 10_000_000, 60000, 100)]   // the bound decides: K_UB / 3
    [InlineData(300, 90_000, 60000, 45)]        // a 20-minute CPU run (~90 kimg): 2 000 images seen per cluster
    [InlineData(300, 10_000_000, 1000, 20)]     // 1 000 rows: at least 50 per cluster
    [InlineData(1, 90_000, 60000, 1)]           // never below 1
    [InlineData(40, 90_000, 60000, 13)]         // 40 / 3 = 13.3
    public void ConditioningKIsTheSmallestOfBoundOverThreeBudgetAndDataCaps(int kUpper, long trainImages, int rows, int expected)
    {
        var r = new BoundResult(kUpper, 0.95, [], false, null, null, 0, 0);
        r.ConditioningK(trainImages, rows).Should().Be(expected);
        BoundResult.ConditioningK(kUpper, trainImages, rows).Should().Be(expected, "the static form reads K_UB from bound.json");
    }

    [Fact]
    public void GridPointsAreDistinctAndStrictlyInside()
    {
        ClusterBoundSearch.GridBetween(100, 200, 3).Should().Equal(125, 150, 175);
        ClusterBoundSearch.GridBetween(4, 6, 5).Should().Equal(5);
        ClusterBoundSearch.GridBetween(4, 5, 3).Should().BeEmpty();
    }

    /// <summary>
    /// The real thing, small: 4 blobs in 8-D (N = 600), tiny CPU heads, data cap 6 (100 rows per cluster). A converged
    /// TEMI fills more clusters than there are blobs (it splits them evenly, as the paper's CIFAR-10 runs fill ~500
    /// clusters for 10 classes), so the bound is at or above the truth and here stops at the data cap, reported as such.
    /// </summary>
    [Fact]
    public void TemiBoundOnBlobsIsAtOrAboveTheTruthAndStopsAtTheDataCap()
    {
        var (x, _) = GaussianBlobs.Generate(600, 4, 8, new Rng(21));
        var temi = TestPresets.SmallTemi;
        var r = new ClusterBoundSearch(new BoundOptions { K0 = 2, GridPoints = 3, Temi = temi, MinRowsPerCluster = 100 }).Run(x);
        output.WriteLine(string.Join("; ", r.Table.Select(t => $"{t.Phase} K={t.K} used={t.Utilized} r={t.Ratio:F3}")) + $"; K_UB={r.KUpper} ({r.Stop}); {r.TotalSeconds:F1} s");
        r.Table.Where(t => t.K <= 4).Should().OnlyContain(t => t.Ratio == 1.0, "TEMI uses every cluster up to the true count");
        r.KUpper.Should().BeGreaterThanOrEqualTo(4);
        (r.DataCapK, r.Table.Max(t => t.K)).Should().Be((6, 6));
        if (r.Stop == BoundStop.DataCap) r.KUpper.Should().Be(6);
    }
}
