using Cedm.Diffusion;
using Cedm.Diffusion.Sampling;
using Cedm.Tensors;
using FluentAssertions;

namespace Cedm.Tests.Diffusion;

public class GuidedDenoiserTests
{
    /// <summary>D(x; σ, c) = σ·x + 10·(label index + 1) for a one-hot row, σ·x for the zero row (∅).</summary>
    private sealed class FakeDenoiser : IDenoiser
    {
        public int Calls;
        public int LabelDim => 3;
        public Tensor Denoise(Tensor x, Tensor sigma, Conditioning? condition = null)
        {
            Calls++;
            int n = x.Dim(0), per = x.Size / n;
            var y = new float[x.Size];
            for (int i = 0; i < n; i++)
            {
                float offset = 0;
                for (int c = 0; c < 3; c++) offset += condition!.Labels!.Data[i * 3 + c] * 10 * (c + 1);
                for (int j = 0; j < per; j++) y[i * per + j] = sigma.Data[i] * x.Data[i * per + j] + offset;
            }
            return new Tensor(y, x.ShapeArray());
        }
    }

    [Fact]
    public void GuidedOutputIsOnePlusWTimesConditionalMinusWTimesUnconditional()
    {
        var fake = new FakeDenoiser();
        var guided = new GuidedDenoiser(fake, 1.5);
        var x = Tensor.Randn(new Rng(1), [3, 1, 2, 2]);
        var sigma = new Tensor([0.5f, 2f, 7f], 3);
        var labels = Cedm.Nn.OneHot.FromIds([2, 0, 1], 3);
        labels.Data[6] = labels.Data[7] = labels.Data[8] = 0; // third row: no condition (∅)
        var d = guided.Denoise(x, sigma, new Conditioning(labels));
        fake.Calls.Should().Be(1, "both halves run as one batch");
        float[] offsets = [30, 10, 0];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
            {
                float dc = sigma.Data[i] * x.Data[i * 4 + j] + offsets[i], du = sigma.Data[i] * x.Data[i * 4 + j];
                d.Data[i * 4 + j].Should().BeApproximately(2.5f * dc - 1.5f * du, 1e-4f);
            }
        d.Data[8].Should().BeApproximately(sigma.Data[2] * x.Data[8], 1e-5f, "an unconditioned row is not changed");
    }

    [Fact]
    public void ZeroWeightPassesThrough()
    {
        var fake = new FakeDenoiser();
        var x = Tensor.Ones(2, 1, 1, 1);
        var labels = Cedm.Nn.OneHot.FromIds([1, 2], 3);
        var d = new GuidedDenoiser(fake, 0).Denoise(x, Tensor.Ones(2), new Conditioning(labels));
        d.Data.Should().Equal(21f, 31f);
        FluentActions.Invoking(() => new GuidedDenoiser(fake, -1)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
