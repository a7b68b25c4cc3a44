using Cedm.Diffusion.Coherence;
using FluentAssertions;

namespace Cedm.Tests.Diffusion.Coherence;

public sealed class CoherenceTransformTests
{
    // k/16 for k = 0…8: exact in float32, so the quantile edges are exact too.
    private static readonly float[] Sixteenths = Enumerable.Range(0, 9).Select(k => k / 16f).ToArray();

    [Fact]
    public void QuantileBinEdgesAndLevels()
    {
        var t = CoherenceTransform.Fit(Sixteenths, new CoherenceOptions { Mode = "bin", Bins = 4 });
        // Quantiles j/4 of 9 sorted values sit at positions 0, 2, 4, 6, 8; the first edge is forced to 0, the last to 1.
        t.Edges.Should().Equal(0, 2 / 16.0, 4 / 16.0, 6 / 16.0, 1);
        t.Apply(0f).Should().Be(0f);
        t.Apply(2 / 16f).Should().Be(0f, "a score on an edge goes to the lower bucket");
        t.Apply(3 / 16f).Should().Be(1 / 3f);
        t.Apply(6 / 16f).Should().Be(2 / 3f);
        t.Apply(0.5f).Should().Be(1f);
        t.Apply(1f).Should().Be(1f);
        t.Apply(Sixteenths).Should().Equal(0, 0, 0, 1 / 3f, 1 / 3f, 2 / 3f, 2 / 3f, 1, 1);
    }

    [Fact]
    public void QuantilesInterpolateLinearlyAsNumPyDoes()
    {
        var tenths = Enumerable.Range(0, 10).Select(k => k / 10f).ToArray();
        var t = CoherenceTransform.Fit(tenths, new CoherenceOptions { Mode = "bin", Bins = 4 });
        // np.quantile(np.arange(10)/10, [0.25, 0.5, 0.75]) = [0.225, 0.45, 0.675]
        t.Edges!.Skip(1).Take(3).Should().Equal([0.225, 0.45, 0.675], (a, b) => Math.Abs(a - b) < 1e-6);
        // With the default 10 bins every level i/9 holds exactly one of ten distinct scores.
        var ten = CoherenceTransform.Fit(tenths, new CoherenceOptions()).Apply(tenths);
        ten.Should().Equal(Enumerable.Range(0, 10).Select(i => i / 9f), (a, b) => Math.Abs(a - b) < 1e-6f);
    }

    [Fact]
    public void MinMaxClipsToQuantilesAndRescales()
    {
        var t = CoherenceTransform.Fit(Sixteenths, new CoherenceOptions { Mode = "minmax", QuantileLow = 0.25, QuantileHigh = 0.75 });
        t.Low.Should().Be(2 / 16.0);
        t.High.Should().Be(6 / 16.0);
        t.Apply(4 / 16f).Should().Be(0.5f);
        t.Apply(0f).Should().Be(0f);
        t.Apply(1f).Should().Be(1f);
        t.Apply(5 / 16f).Should().Be(0.75f);
    }

    [Fact]
    public void RawKeepsScoresAndScoresWithoutSpreadFallBackToPlainConditioningWithAWarning()
    {
        CoherenceTransform.Fit(Sixteenths, new CoherenceOptions { Mode = "raw" }).Apply(Sixteenths).Should().Equal(Sixteenths);
        CoherenceTransform.Fit(Sixteenths, new CoherenceOptions()).Warning.Should().BeNull();
        var constant = new float[] { 0.3f, 0.3f, 0.3f };
        foreach (var mode in new[] { "bin", "minmax" })
        {
            var t = CoherenceTransform.Fit(constant, new CoherenceOptions { Mode = mode });
            t.Mode.Should().Be(CoherenceTransform.Constant);
            t.Warning.Should().Contain("plain conditioning").And.Contain(mode);
            t.Apply(constant).Should().Equal(1f, 1f, 1f);
        }
        FluentActions.Invoking(() => CoherenceTransform.Fit(Sixteenths, new CoherenceOptions { Bins = 1 })).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new CoherenceOptions { Source = "scores.txt" }.Validate()).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void PrepareComputesScoresTransformsAndSummarises()
    {
        string dir = Directory.CreateTempSubdirectory("cedm-cohp-").FullName;
        try
        {
            string file = Path.Combine(dir, "s.npy");
            Cedm.IO.Npy.Write(file, Sixteenths, Sixteenths.Length);
            var (values, config) = CoherenceConfig.Prepare(new CoherenceOptions { Source = file, Bins = 4 }, null, Sixteenths.Length);
            values.Should().Equal(0, 0, 0, 1 / 3f, 1 / 3f, 2 / 3f, 2 / 3f, 1, 1);
            config.Raw.Median.Should().Be(0.25);
            config.Processed.Max.Should().Be(1);
            config.Histogram.Sum().Should().Be(9);
            config.Histogram[0].Should().Be(3);
            FluentActions.Invoking(() => CoherenceConfig.Prepare(new CoherenceOptions { Source = "entropy" }, null, 9))
                .Should().Throw<ArgumentException>().WithMessage("*computed from a clustering*").Which.ParamName.Should().Be("Cond");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
