using System.Text.Json;
using Cedm.Diffusion;
using Cedm.Diffusion.Coherence;
using Cedm.Diffusion.Networks;
using Cedm.Diffusion.Training;
using Cedm.Tensors;
using FluentAssertions;

namespace Cedm.Tests.Diffusion.Coherence;

public sealed class CoherenceEmbeddingTests
{
    /// <summary>
    /// A micro coherence net whose near-zero-initialised convolutions (init_zero: each block's conv1, the output conv)
    /// are randomised: at EDM's initialisation the blocks are almost identity maps, so F barely sees the embedding.
    /// </summary>
    private static EdmPrecond Net(bool coherence = true)
    {
        var net = new EdmPrecond(TestNets.Micro(labelDim: 3) with { Coherence = coherence }, new Rng(5));
        var rng = new Rng(9);
        foreach (var (path, p) in net.NamedParameters())
            if (path.Contains("aux_conv", StringComparison.Ordinal) || path.Contains("conv1.weight", StringComparison.Ordinal))
                for (int i = 0; i < p.Size; i++) p.Data[i] = (float)(rng.NextNormal() * 0.2);
        net.SetTraining(false);
        return net;
    }

    [Fact]
    public void StandardizedRowsHaveZeroMeanAndUnitUnbiasedStd()
    {
        var e = CoherenceEmbedding.Standardize(new Tensor([1f, 2f, 3f, 6f, 0f, 1f, 0f, 1f], 2, 4));
        for (int r = 0; r < 2; r++)
        {
            var row = e.Data.AsSpan(r * 4, 4).ToArray();
            row.Average().Should().BeApproximately(0f, 1e-6f);
            (row.Sum(v => v * v) / 3).Should().BeApproximately(1f, 1e-5f);
        }
        e.Data[0].Should().BeApproximately((float)((1 - 3) / Math.Sqrt(14 / 3.0)), 1e-6f);
    }

    [Fact]
    public void CoherenceChangesTheOutputForTheSameInputSigmaAndLabel()
    {
        var net = Net();
        var x = Tensor.Randn(new Rng(2), [2, 1, 16, 16]);
        var sigma = new Tensor([0.7f, 3f], 2);
        var labels = Cedm.Nn.OneHot.FromIds([1, 2], 3);
        Tensor D(float c) => net.Denoise(x, sigma, new Conditioning(labels, Tensor.Full(c, 2)));
        var d0 = D(0f);
        var d1 = D(1f);
        var dHalf = D(0.5f);
        MaxAbsDiff(d0, d1).Should().BeGreaterThan(1e-3f);
        MaxAbsDiff(dHalf, d1).Should().BeGreaterThan(1e-3f);
        MaxAbsDiff(net.Denoise(x, sigma, new Conditioning(labels)), d1).Should().Be(0f, "no coherence means c = 1");
        MaxAbsDiff(D(1f), d1).Should().Be(0f, "deterministic in evaluation mode");
    }

    [Fact]
    public void OtherWeightsMatchTheNetWithoutCoherenceAndGradientsReachTheMapper()
    {
        var with = new EdmPrecond(TestNets.Micro(labelDim: 3) with { Coherence = true }, new Rng(5)).StateDict();
        var without = new EdmPrecond(TestNets.Micro(labelDim: 3), new Rng(5)).StateDict();
        with.Keys.Except(without.Keys).Should().OnlyContain(k => k.StartsWith("model.map_coh.", StringComparison.Ordinal)).And.HaveCount(4);
        foreach (var (key, t) in without) with[key].Data.Should().Equal(t.Data, key);

        var net = Net();
        net.SetTraining(true);
        var loss = new EdmLoss().Compute(net, Tensor.Randn(new Rng(3), [2, 1, 16, 16]),
            new Conditioning(Cedm.Nn.OneHot.FromIds([0, 1], 3), new Tensor([0.2f, 0.9f], 2)), new Rng(4));
        loss.Backward();
        var grad = net.NamedParameters().First(p => p.Path == "model.map_coh.fc0.weight").Tensor.Grad;
        grad.Should().NotBeNull();
        grad!.Data.Max(Math.Abs).Should().BeGreaterThan(0f);
    }

    [Fact]
    public void CoherenceIsOffByDefaultAndChecked()
    {
        JsonSerializer.Deserialize<SongUNetOptions>("{\"label_dim\": 3, \"resolution\": 16}", RunConfig.Json)!.Coherence.Should().BeFalse("configs written before coherence load as before");
        var plain = Net(coherence: false);
        var x = Tensor.Zeros(1, 1, 16, 16);
        FluentActions.Invoking(() => plain.Denoise(x, Tensor.Ones(1), new Conditioning(Cedm.Nn.OneHot.FromIds([0], 3), Tensor.Ones(1))))
            .Should().Throw<ArgumentException>().WithMessage("*without coherence*");
        FluentActions.Invoking(() => Net().Denoise(x, Tensor.Ones(1), new Conditioning(Cedm.Nn.OneHot.FromIds([0], 3), Tensor.Ones(2))))
            .Should().Throw<ArgumentException>().WithMessage("*coherence of shape [1]*");
        FluentActions.Invoking(() => (TestNets.Micro() with { Coherence = true }).Validate()).Should().Throw<ArgumentException>().WithMessage("*label_dim > 0*");
        ((IDenoiser)Net()).HasCoherence.Should().BeTrue();
        ((IDenoiser)plain).HasCoherence.Should().BeFalse();
    }

    private static float MaxAbsDiff(Tensor a, Tensor b) => a.Data.Zip(b.Data, (p, q) => Math.Abs(p - q)).Max();
}
