using Cedm.Clustering;
using Cedm.Clustering.Bounds;
using Cedm.Tensors;
using FluentAssertions;
using Xunit.Abstractions;

namespace Cedm.Tests.Clustering.Temi;

public sealed class ClusterBoundSearchTests(ITestOutputHelper output)
{
    private static readonly Tensor Dummy = Tensor.Zeros(200, 2);

    [Fact]
    public void DoublesThenSearchesTheGridBetweenLastPassAndFirstFail()
    {
        // r(K) = 1 up to K = 13, then K_used stays 13: passes (τ = 0.9) up to K = 14.
        var search = new ClusterBoundSearch(new BoundOptions { K0 = 2, GridPoints = 3, Threshold = 0.9 }) { UtilizedAt = (k, _) => Math.Min(k, 13) };
        var r = search.Run(Dummy);
        r.Table.Select(t => t.K).Should().Equal(2, 4, 8, 16, 10, 12, 14);
        r.Table.Select(t => t.Phase).Should().Equal("double", "double", "double", "double", "grid", "grid", "grid");
        r.KUpper.Should().Be(14);
        r.CappedAtMaxK.Should().BeFalse();
        r.KLower.Should().BeNull();
    }

    [Fact]
    public void HalvesWhenK0AlreadyFailsAndCapsAtMaxK()
    {
        var halving = new ClusterBoundSearch(new BoundOptions { K0 = 40, GridPoints = 1 }) { UtilizedAt = (k, _) => Math.Min(k, 6) };
        var r = halving.Run(Dummy);
        r.Table.Select(t => t.K).Should().Equal(40, 20, 10, 5, 8);     // 5 passes, grid point 8 between 5 and 10 fails
        r.KUpper.Should().Be(5);

        var capped = new ClusterBoundSearch(new BoundOptions { K0 = 4, MaxK = 20 }) { UtilizedAt = (k, _) => k }.Run(Dummy);
        capped.Table.Select(t => t.K).Should().Equal(4, 8, 16);
        (capped.KUpper, capped.CappedAtMaxK).Should().Be((16, true));
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
    public void GridPointsAreDistinctAndStrictlyInside()
    {
        ClusterBoundSearch.GridBetween(100, 200, 3).Should().Equal(125, 150, 175);
        ClusterBoundSearch.GridBetween(4, 6, 5).Should().Equal(5);
        ClusterBoundSearch.GridBetween(4, 5, 3).Should().BeEmpty();
    }

    /// <summary>
    /// The real thing, small: 4 blobs in 8-D (N = 600), tiny CPU heads. The full check (6 blobs in 16-D, spec-sized
    /// CPU preset, several seeds) is tools/experiments/bound_blobs.sh.
    /// </summary>
    [Fact]
    public void TemiBoundOnBlobsIsAtOrAboveTheTruthAndWithinTwiceIt()
    {
        var (x, _) = GaussianBlobs.Generate(600, 4, 8, new Rng(21));
        var temi = TestPresets.SmallTemi;
        var r = new ClusterBoundSearch(new BoundOptions { K0 = 2, GridPoints = 3, Temi = temi }).Run(x);
        output.WriteLine(string.Join("; ", r.Table.Select(t => $"{t.Phase} K={t.K} used={t.Utilized} r={t.Ratio:F3}")) + $"; K_UB={r.KUpper}; {r.TotalSeconds:F1} s");
        r.KUpper.Should().BeInRange(4, 8);
    }
}
