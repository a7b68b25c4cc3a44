using Cedm.Diffusion;
using Cedm.Diffusion.ImageConditioning;
using Cedm.Diffusion.Labels;
using Cedm.Diffusion.Sampling;
using Cedm.Tensors;
using FluentAssertions;

namespace Cedm.Tests.Diffusion.ImageConditioning;

/// <summary>EdmSampler with an <see cref="IImageConditionSampler"/>: per-seed conditions, fixed leaves, guidance, errors.</summary>
public sealed class ImageConditionSamplingTests
{
    /// <summary>Denoises every image to its condition image, recording the (label, image) rows of each call.</summary>
    private sealed class ToTheCondition(int labelDim = 3, int channels = 1) : IDenoiser
    {
        public List<(float[] Labels, float[] Image)> Rows { get; } = [];
        public int LabelDim => labelDim;
        public int ConditionChannels => channels;

        public Tensor Denoise(Tensor x, Tensor sigma, Conditioning? condition = null)
        {
            var image = condition!.Image!;
            int n = x.Dim(0), per = image.Size / n;
            for (int i = 0; i < n; i++)
                Rows.Add((condition.Labels?.Data.AsSpan(i * labelDim, labelDim).ToArray() ?? [], image.Data.AsSpan(i * per, per).ToArray()));
            return new Tensor(image.Data.ToArray(), x.ShapeArray());
        }
    }

    private static readonly SamplerOptions Heun = new() { Solver = SamplerSolver.Heun, Steps = 3, SChurn = 5 };

    private static float Pattern(int leaf, int j) => TrainingTestData.Pattern(leaf, j % 8, j / 8, 8) / 127.5f - 1f;

    [Fact]
    public void EachSeedDrawsItsOwnConditionAtAnyBatchSizeAndItsLeafIsTheLabel()
    {
        long[] seeds = [3, 4, 5, 6, 7, 8];
        var one = new ToTheCondition();
        var byOne = new EdmSampler(one, Heun with { BatchSize = 1 }).Sample(seeds, 1, 8, 8, images: new ImageConditionDraw(new PatternSampler()));
        var four = new ToTheCondition();
        var byFour = new EdmSampler(four, Heun with { BatchSize = 4 }).Sample(seeds, 1, 8, 8, images: new ImageConditionDraw(new PatternSampler()));
        byFour.Conditions.Should().Equal(byOne.Conditions);
        byFour.Images.Should().Equal(byOne.Images);
        byOne.Conditions.Distinct().Count().Should().BeGreaterThan(1, "leaves are drawn per seed");
        for (int i = 0; i < seeds.Length; i++)
        {
            int leaf = byOne.Conditions[i];
            var (labels, image) = one.Rows[i * 5];   // 5 evaluations per image (2N − 1)
            labels.Should().Equal(Enumerable.Range(0, 3).Select(c => c == leaf ? 1f : 0f), "the leaf is the one-hot label");
            image.Should().Equal(Enumerable.Range(0, 64).Select(j => Pattern(leaf, j)), "the leaf's condition image");
            // D returns the condition, so the sample ends on it.
            for (int j = 0; j < 64; j++) byOne.Images[i * 64 + j].Should().BeApproximately(Pattern(leaf, j), 1e-4f);
        }
    }

    /// <summary>
    /// A fixed leaf changes only the condition: the sampler consumes the same numbers, so a seed whose drawn leaf equals
    /// the fixed one gives the same image bit for bit (latent and churn noise included).
    /// </summary>
    [Fact]
    public void AFixedLeafKeepsTheSeedsNoise()
    {
        long[] seeds = [11, 12, 13, 14, 15, 16];
        var den = new ToTheCondition();
        var drawn = new EdmSampler(den, Heun).Sample(seeds, 1, 8, 8, images: new ImageConditionDraw(new PatternSampler()));
        var fixedTwo = new EdmSampler(den, Heun).Sample(seeds, 1, 8, 8, images: new ImageConditionDraw(new PatternSampler(), leaf: 2));
        fixedTwo.Conditions.Should().OnlyContain(c => c == 2);
        drawn.Conditions.Should().Contain(2).And.Contain(c => c != 2);
        for (int i = 0; i < seeds.Length; i++)
        {
            var a = drawn.Images.AsSpan(i * 64, 64).ToArray();
            var b = fixedTwo.Images.AsSpan(i * 64, 64).ToArray();
            if (drawn.Conditions[i] == 2) b.Should().Equal(a, $"seed {seeds[i]} drew leaf 2 itself");
            else b.Should().NotEqual(a);
        }
    }

    [Fact]
    public void GuidanceAddsZeroImageAndZeroLabelRows()
    {
        var den = new ToTheCondition();
        new EdmSampler(den, new SamplerOptions { Solver = SamplerSolver.Heun, Steps = 1, Guidance = 2 })
            .Sample([1], 1, 8, 8, images: new ImageConditionDraw(new PatternSampler(), leaf: 1));
        den.Rows.Should().HaveCount(2);
        den.Rows[0].Labels.Should().Equal(0f, 1f, 0f);
        den.Rows[0].Image.Should().Contain(v => v != 0f);
        den.Rows[1].Labels.Should().Equal(0f, 0f, 0f);
        den.Rows[1].Image.Should().OnlyContain(v => v == 0f, "A′.1's null condition replaces the decode by zeros");
    }

    [Fact]
    public void MismatchesAreClearErrors()
    {
        var den = new ToTheCondition();
        var sampler = new EdmSampler(den, Heun);
        var patterns = new ImageConditionDraw(new PatternSampler());
        FluentActions.Invoking(() => sampler.Sample([1], 1, 8, 8))
            .Should().Throw<ArgumentException>().WithMessage("*conditioned on an image of 1 channel(s); give an image condition sampler*");
        FluentActions.Invoking(() => sampler.Sample([1], 1, 8, 8, ConditionDraw.Uniform(3), images: patterns))
            .Should().Throw<ArgumentException>().WithMessage("*takes its leaves from the image condition sampler*");
        FluentActions.Invoking(() => sampler.Sample([1], 1, 8, 8, images: new ImageConditionDraw(new PatternSampler(channels: 2))))
            .Should().Throw<ArgumentException>().WithMessage("*1 condition channel(s); the image condition sampler gives 2*");
        FluentActions.Invoking(() => sampler.Sample([1], 1, 8, 8, images: new ImageConditionDraw(new PatternSampler(leafCount: 4))))
            .Should().Throw<ArgumentException>().WithMessage("*label dimension 3; the image condition sampler has 4 leaves*");
        FluentActions.Invoking(() => new EdmSampler(new ToTheCondition(channels: 0), Heun).Sample([1], 1, 8, 8, ConditionDraw.Uniform(3), images: patterns))
            .Should().Throw<ArgumentException>().WithMessage("*no condition channels; it takes no condition images*");
        FluentActions.Invoking(() => new ImageConditionDraw(new PatternSampler(), leaf: 3))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Leaf 3 does not exist*0..2*");
        FluentActions.Invoking(() => sampler.Sample([1], 1, 8, 8, images: new ImageConditionDraw(new IgnoresTheLeaf(), leaf: 1)))
            .Should().Throw<ArgumentException>().WithMessage("*IgnoresTheLeaf was asked for leaf 1 but returned other leaves*");
    }

    private sealed class IgnoresTheLeaf : IImageConditionSampler
    {
        public int Channels => 1;
        public int LeafCount => 3;
        public ImageCondition Draw(IReadOnlyList<Rng> rngs, int? leaf, int height, int width) =>
            new(new int[rngs.Count], Tensor.Zeros(rngs.Count, 1, height, width));
    }
}
