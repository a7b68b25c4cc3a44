using Cedm.Metrics;
using Cedm.Tensors;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Metrics;

/// <summary>Precision / recall / density / coverage (spec §6.3) against numpy and on constructed cases.</summary>
public sealed class PrecisionRecallTests
{
    [Theory]
    [InlineData(5)]
    [InlineData(3)]
    public void MatchesNumpyFixture(int k)
    {
        var fx = FixtureFile.Load("metrics/fd/prdc.bin");
        Tensor real = fx["real"], fake = fx["fake"];
        var expected = fx[$"prdc_k{k}"].Data;
        var r = PrecisionRecall.Compute(real.Data, real.Shape[0], fake.Data, fake.Shape[0], real.Shape[1], k);
        new[] { r.Precision, r.Recall, r.Density, r.Coverage }.Should()
            .Equal(expected.Select(v => (double)v), (a, b) => Math.Abs(a - b) < 1e-6);
    }

    [Fact]
    public void IdenticalSetsArePerfect()
    {
        var x = new float[300 * 4];
        new Rng(1).FillNormal(x);
        var r = PrecisionRecall.Compute(x, 300, x, 300, 4);
        r.Precision.Should().Be(1);
        r.Recall.Should().Be(1);
        r.Coverage.Should().Be(1);
        r.Density.Should().BeGreaterThan(0.8);
    }

    [Fact]
    public void FarApartSetsScoreZero()
    {
        var x = new float[200 * 3];
        var y = new float[150 * 3];
        new Rng(2).FillNormal(x);
        new Rng(3).FillNormal(y, mean: 100f);
        var r = PrecisionRecall.Compute(x, 200, y, 150, 3);
        (r.Precision, r.Recall, r.Density, r.Coverage).Should().Be((0.0, 0.0, 0.0, 0.0));
    }

    [Fact]
    public void SubsamplingCapsEachSide()
    {
        var x = new float[500 * 2];
        new Rng(4).FillNormal(x);
        var r = PrecisionRecall.ComputeSubsampled(x, 500, x.AsSpan(0, 400 * 2), 400, 2, new Rng(0), k: 5, maxPerSide: 100);
        (r.RealCount, r.FakeCount).Should().Be((100, 100));
        r.Precision.Should().BeInRange(0.5, 1.0);
    }

    [Fact]
    public void KMustBeSmallerThanTheSet()
    {
        var act = () => PrecisionRecall.Compute(new float[4], 4, new float[4], 4, 1, k: 5);
        act.Should().Throw<ArgumentException>().WithMessage("*k = 5*");
    }
}
