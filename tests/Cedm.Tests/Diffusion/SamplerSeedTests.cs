using Cedm.Diffusion;
using Cedm.Diffusion.Labels;
using Cedm.Diffusion.Sampling;
using Cedm.Tensors;
using FluentAssertions;
using Cedm.Tests.Diffusion.Oracles;

namespace Cedm.Tests.Diffusion;

/// <summary>Per-seed generators (spec §3): a seed gives the same image and condition at any batch size or position.</summary>
public class SamplerSeedTests
{
    private static readonly SamplerOptions Stochastic = new() { Solver = SamplerSolver.Heun, Steps = 6, SChurn = 10, SMin = 0.01, SMax = 50, SNoise = 1.003 };

    [Fact]
    public void ASeedGivesTheSameImageAtAnyBatchSize()
    {
        var den = new ExactGmmDenoiser(GmmFixtures.ThreeComponents(), conditional: true);
        long[] seeds = [5, 6, 7, 8, 9, 10, 11];
        var draw = ConditionDraw.Empirical([5, 3, 2]);
        var whole = new EdmSampler(den, Stochastic with { BatchSize = 7 }).Sample(seeds, 1, 1, 2, draw);
        var byThree = new EdmSampler(den, Stochastic with { BatchSize = 3 }).Sample(seeds, 1, 1, 2, draw);
        var reordered = new EdmSampler(den, Stochastic with { BatchSize = 2 }).Sample([9, 7, 5], 1, 1, 2, draw);
        byThree.Images.Should().Equal(whole.Images);
        byThree.Conditions.Should().Equal(whole.Conditions);
        reordered.Images.Should().Equal(whole.Images[8..10].Concat(whole.Images[4..6]).Concat(whole.Images[0..2]));
        whole.Conditions.Distinct().Count().Should().BeGreaterThan(1, "conditions are drawn per seed");
    }

    [Fact]
    public void DrawOrderIsLatentThenConditionThenChurnNoise()
    {
        // Spec §3: z [C,H,W] first, then the condition, then C·H·W normals per step. Reproduce the first step by hand.
        var rec = new RecordingDenoiser(3);
        var options = new SamplerOptions { Solver = SamplerSolver.Heun, Steps = 2, SChurn = 1, BatchSize = 1 };
        new EdmSampler(rec, options).Sample([42], 1, 1, 2, ConditionDraw.Uniform(3));
        var rng = new Rng(42);
        double z0 = rng.NextNormal(), z1 = rng.NextNormal();
        int c = ConditionDraw.Uniform(3).Draw(rng);
        double gamma = Math.Min(1.0 / 2, Math.Sqrt(2) - 1), t0 = 80, tHat = t0 * (1 + gamma);
        double s = Math.Sqrt(tHat * tHat - t0 * t0);
        double e0 = rng.NextNormal(), e1 = rng.NextNormal();
        rec.Calls[0].X.Should().Equal((float)(t0 * z0 + s * e0), (float)(t0 * z1 + s * e1));
        rec.Calls[0].Sigma.Should().Be((float)tHat);
        rec.Calls[0].Label.Should().Be(c);
        rec.Calls.Should().HaveCount(3, "NFE = 2N − 1");
    }

    [Fact]
    public void AFixedConditionKeepsTheSeedsNoise()
    {
        // Every draw mode consumes one uniform: with a denoiser that ignores labels, a fixed condition changes nothing else.
        var den = new ExactGmmDenoiser(GmmFixtures.ThreeComponents(), conditional: true);
        var ignoring = new LabelBlindDenoiser(den);
        var a = new EdmSampler(ignoring, Stochastic).Sample([1, 2, 3], 1, 1, 2, ConditionDraw.Empirical([1, 1, 1]));
        var b = new EdmSampler(ignoring, Stochastic).Sample([1, 2, 3], 1, 1, 2, ConditionDraw.Fixed(2, 3));
        b.Images.Should().Equal(a.Images);
        b.Conditions.Should().Equal(2, 2, 2);
    }

    [Fact]
    public void ConditionDrawsFollowTheirDistribution()
    {
        var rng = new Rng(3);
        var emp = ConditionDraw.Empirical([600, 0, 300, 100]);
        var counts = new int[4];
        for (int i = 0; i < 20_000; i++) counts[emp.Draw(rng)]++;
        counts[1].Should().Be(0, "an empty cluster is never drawn");
        // SE of a frequency ≤ sqrt(0.25/20000) = 0.0035; tolerance 0.015.
        (counts[0] / 20000.0).Should().BeApproximately(0.6, 0.015);
        (counts[2] / 20000.0).Should().BeApproximately(0.3, 0.015);
        (counts[3] / 20000.0).Should().BeApproximately(0.1, 0.015);
        var uni = ConditionDraw.Uniform(5);
        var u = new int[5];
        for (int i = 0; i < 20_000; i++) u[uni.Draw(rng)]++;
        u.Should().OnlyContain(n => Math.Abs(n / 20000.0 - 0.2) < 0.015);
        FluentActions.Invoking(() => ConditionDraw.Fixed(5, 5)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => ConditionDraw.Empirical([0, 0])).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void ConditionalModelsNeedConditionsAndUnconditionalOnesRefuseThem()
    {
        var cond = new ExactGmmDenoiser(GmmFixtures.ThreeComponents(), conditional: true);
        var plain = new ExactGmmDenoiser(GmmFixtures.ThreeComponents());
        FluentActions.Invoking(() => new EdmSampler(cond).Sample([0], 1, 1, 2)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new EdmSampler(plain).Sample([0], 1, 1, 2, ConditionDraw.Uniform(3))).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new EdmSampler(cond).Sample([0], 1, 1, 2, ConditionDraw.Uniform(4))).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new EdmSampler(plain, new SamplerOptions { Guidance = 1 })).Should().Throw<ArgumentException>();
    }

    private sealed class RecordingDenoiser(int k) : IDenoiser
    {
        public List<(float[] X, float Sigma, int Label)> Calls { get; } = [];
        public int LabelDim => k;
        public Tensor Denoise(Tensor x, Tensor sigma, Conditioning? condition = null)
        {
            var labels = condition!.Labels!.Data;
            Calls.Add((x.ToArray(), sigma.Data[0], Array.IndexOf(labels, 1f)));
            return Tensor.ZerosLike(x);
        }
    }

    private sealed class LabelBlindDenoiser(ExactGmmDenoiser inner) : IDenoiser
    {
        public int LabelDim => inner.LabelDim;
        public Tensor Denoise(Tensor x, Tensor sigma, Conditioning? condition = null) => inner.Denoise(x, sigma);
    }
}
