using Cedm.Diffusion;
using Cedm.Diffusion.FeatureConditioning;
using Cedm.Diffusion.Sampling;
using Cedm.Tensors;
using FluentAssertions;

namespace Cedm.Tests.Diffusion.FeatureConditioning;

/// <summary>The Heun sampler hands each image its own condition vector, drawn from its seed's generator.</summary>
public sealed class FeatureSamplingTests
{
    /// <summary>Records the feature rows it is called with; denoises to zero.</summary>
    private sealed class Recorder(int dim) : IDenoiser
    {
        public List<float[]> Rows { get; } = [];
        public int LabelDim => 0;
        public int FeatureDim => dim;

        public Tensor Denoise(Tensor x, Tensor sigma, Conditioning? condition = null)
        {
            var f = condition!.Features!;
            for (int i = 0; i < f.Dim(0); i++) Rows.Add(f.Data.AsSpan(i * dim, dim).ToArray());
            return Tensor.ZerosLike(x);
        }
    }

    private static readonly FeatureMixture Two = new(2, 0, [0.5, 0.5], [10, 10, -10, -10], [0.01, 0.01, 0.01, 0.01], [], [3, 8]);

    [Fact]
    public void EachSeedGetsTheSameDrawAtAnyBatchSizeAndTheChosenComponent()
    {
        var one = new Recorder(2);
        var r1 = new EdmSampler(one, new SamplerOptions { Solver = SamplerSolver.Heun, Steps = 2, BatchSize = 1 }).Sample([5, 6, 7], 1, 2, 2, features: FeatureDraw.FromMixture(Two, FeatureDraw.ByWeight, 1));
        var three = new Recorder(2);
        var r3 = new EdmSampler(three, new SamplerOptions { Solver = SamplerSolver.Heun, Steps = 2, BatchSize = 3 }).Sample([5, 6, 7], 1, 2, 2, features: FeatureDraw.FromMixture(Two, FeatureDraw.ByWeight, 1));
        r1.Conditions.Should().Equal(r3.Conditions);
        // The first evaluation of each batch: rows in seed order.
        var firstOne = new[] { one.Rows[0], one.Rows[3], one.Rows[6] };
        for (int i = 0; i < 3; i++)
        {
            firstOne[i].Should().Equal(three.Rows[i]);
            double expected = r1.Conditions[i] == 0 ? 10 : -10;
            firstOne[i][0].Should().BeApproximately((float)expected, 0.5f, "the row comes from the image's component");
        }
        var fixedB = new Recorder(2);
        new EdmSampler(fixedB, new SamplerOptions { Solver = SamplerSolver.Heun, Steps = 1 }).Sample([1, 2], 1, 2, 2, features: FeatureDraw.FromMixture(Two, 1, 1))
            .Conditions.Should().Equal(1, 1);
        fixedB.Rows.Should().OnlyContain(r => r[0] < -9);
        FluentActions.Invoking(() => new EdmSampler(fixedB).Sample([1], 1, 2, 2)).Should().Throw<ArgumentException>().WithMessage("*feature dimension is 2*");
    }

    [Fact]
    public void GuidanceAddsTheZeroVectorRows()
    {
        var rec = new Recorder(2);
        new EdmSampler(rec, new SamplerOptions { Solver = SamplerSolver.Heun, Steps = 1, Guidance = 1 }).Sample([1], 1, 2, 2, features: FeatureDraw.FromMixture(Two, 0, 1));
        rec.Rows.Should().HaveCount(2);
        rec.Rows[0][0].Should().BeGreaterThan(9);
        rec.Rows[1].Should().Equal(0f, 0f);
    }
}
