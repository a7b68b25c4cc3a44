using System.Text.Json;
using Cedm.Diffusion;
using Cedm.Diffusion.Networks;
using Cedm.Diffusion.Sampling;
using Cedm.Diffusion.Training;
using Cedm.Nn;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;
using FluentAssertions;

namespace Cedm.Tests.Diffusion.FeatureConditioning;

/// <summary>The continuous condition path of SongUNet (map_feat, related-seeds B.3 item 2).</summary>
public sealed class FeatureEmbeddingTests
{
    private const int D = 5;

    /// <summary>A micro feature net with its near-zero-initialised convolutions randomised, so F sees the embedding.</summary>
    private static EdmPrecond Net(int labelDim = 0, int featureDim = D)
    {
        var net = new EdmPrecond(TestNets.Micro(labelDim: labelDim) with { FeatureDim = featureDim }, new Rng(5));
        var rng = new Rng(9);
        foreach (var (path, p) in net.NamedParameters())
            if (path.Contains("aux_conv", StringComparison.Ordinal) || path.Contains("conv1.weight", StringComparison.Ordinal))
                for (int i = 0; i < p.Size; i++) p.Data[i] = (float)(rng.NextNormal() * 0.2);
        net.SetTraining(false);
        return net;
    }

    private static float MaxAbsDiff(Tensor a, Tensor b) => a.Data.Zip(b.Data, (p, q) => Math.Abs(p - q)).Max();

    [Fact]
    public void FeaturesChangeTheOutputAndNullIsTheZeroVector()
    {
        var net = Net();
        var x = Tensor.Randn(new Rng(2), [2, 1, 16, 16]);
        var sigma = new Tensor([0.7f, 3f], 2);
        var z = Tensor.Randn(new Rng(3), [2, D]);
        var dz = net.Denoise(x, sigma, new Conditioning(Features: z));
        var d0 = net.Denoise(x, sigma, new Conditioning(Features: Tensor.Zeros(2, D)));
        MaxAbsDiff(dz, d0).Should().BeGreaterThan(1e-3f);
        MaxAbsDiff(net.Denoise(x, sigma), d0).Should().Be(0f, "no features means the zero vector");
        FluentActions.Invoking(() => net.Denoise(x, sigma, new Conditioning(Features: Tensor.Zeros(2, D + 1))))
            .Should().Throw<ArgumentException>().WithMessage("*features of shape [2, 5]*");
        FluentActions.Invoking(() => Net(labelDim: 3, featureDim: 0).Denoise(x, sigma, new Conditioning(OneHot.FromIds([0, 1], 3), Features: z)))
            .Should().Throw<ArgumentException>().WithMessage("*without a feature condition*");
        ((IDenoiser)net).FeatureDim.Should().Be(D);
    }

    [Fact]
    public void OtherWeightsMatchTheNetWithoutFeatures()
    {
        var with = new EdmPrecond(TestNets.Micro(labelDim: 3) with { FeatureDim = D }, new Rng(5)).StateDict();
        var without = new EdmPrecond(TestNets.Micro(labelDim: 3), new Rng(5)).StateDict();
        with.Keys.Except(without.Keys).Should().BeEquivalentTo(
            ["model.map_feat.fc0.weight", "model.map_feat.fc0.bias", "model.map_feat.fc1.weight", "model.map_feat.fc1.bias"]);
        with["model.map_feat.fc0.weight"].ShapeArray().Should().Equal(8, D);
        foreach (var (key, t) in without) with[key].Data.Should().Equal(t.Data, key);
    }

    [Fact]
    public void ConfigsAndCheckpointsOfLabelRunsStillLoad()
    {
        // A config.json network object as written before feature conditioning existed (no feature_dim key).
        const string old = """{"resolution": 16, "in_channels": 1, "out_channels": 1, "label_dim": 3, "augment_dim": 9, "model_channels": 8, "channel_mult": [1, 2], "num_blocks": 1, "attn_resolutions": [8], "dropout": 0}""";
        var options = JsonSerializer.Deserialize<SongUNetOptions>(old, RunConfig.Json)!;
        options.FeatureDim.Should().Be(0);
        // The committed PyTorch-made weights of the label-conditioned fixture net (an existing-format state dict).
        var net = new EdmPrecond(options, new Rng(0));
        net.LoadSafetensors(Path.Combine(AppContext.BaseDirectory, "Fixtures", "diffusion", "songunet_weights.safetensors"));
        net.NamedParameters().Should().NotContain(p => p.Path.Contains("map_feat", StringComparison.Ordinal));
        // The round trip of the new field.
        var json = JsonSerializer.Serialize(options with { FeatureDim = 7 }, RunConfig.Json);
        json.Should().Contain("\"feature_dim\": 7");
        JsonSerializer.Deserialize<SongUNetOptions>(json, RunConfig.Json)!.FeatureDim.Should().Be(7);
        FluentActions.Invoking(() => (TestNets.Micro() with { FeatureDim = -1 }).Validate()).Should().Throw<ArgumentException>().WithMessage("*feature_dim*");
    }

    /// <summary>
    /// L = Σ r ⊙ D(x; σ, z): autograd's dL/dz and dL/dW (map_feat.fc0.weight) against central differences in float64
    /// arithmetic on the float32 net (step 1e-2; tolerance 2% of the largest checked gradient plus 2% relative).
    /// </summary>
    [Fact]
    public void GradientOfTheConditionPathMatchesFiniteDifferences()
    {
        var net = Net(labelDim: 0);
        var x = Tensor.Randn(new Rng(2), [2, 1, 16, 16]);
        var sigma = new Tensor([0.5f, 2f], 2);
        var r = Tensor.Randn(new Rng(4), [2, 1, 16, 16]);
        var zData = Tensor.Randn(new Rng(3), [2, D]).Data.ToArray();
        var w = net.NamedParameters().First(p => p.Path == "model.map_feat.fc0.weight").Tensor;

        var z = new Tensor(zData.ToArray(), 2, D).RequireGrad();
        (net.Denoise(x, sigma, new Conditioning(Features: z)) * r).Sum().Backward();
        var gz = z.Grad!.Data.ToArray();
        var gw = w.Grad!.Data.ToArray();

        double L()
        {
            using var _ = GradMode.NoGrad();
            var d = net.Denoise(x, sigma, new Conditioning(Features: new Tensor(zData.ToArray(), 2, D)));
            double s = 0;
            for (int i = 0; i < d.Size; i++) s += (double)d.Data[i] * r.Data[i];
            return s;
        }
        double Central(float[] data, int i, float h)
        {
            float keep = data[i];
            data[i] = keep + h; double up = L();
            data[i] = keep - h; double down = L();
            data[i] = keep;
            return (up - down) / (2 * h);
        }
        var zChecks = Enumerable.Range(0, 2 * D).Select(i => (gz[i], Central(zData, i, 1e-2f))).ToArray();
        var wChecks = new[] { 0, 3, 7, 11, 20, 33 }.Select(i => (gw[i], Central(w.Data, i, 1e-2f))).ToArray();
        foreach (var (name, checks) in new[] { ("dL/dz", zChecks), ("dL/dW", wChecks) })
        {
            double scale = checks.Max(c => Math.Abs(c.Item2));
            scale.Should().BeGreaterThan(1e-3, $"{name} must be non-trivial for the check to mean anything");
            foreach (var (auto, fd) in checks)
                ((double)auto).Should().BeApproximately(fd, 0.02 * scale + 0.02 * Math.Abs(fd), name);
        }
    }

    [Fact]
    public void GuidanceUsesTheZeroVectorAsTheUnconditionalHalf()
    {
        var net = Net();
        var x = Tensor.Randn(new Rng(2), [2, 1, 16, 16]);
        var sigma = new Tensor([0.7f, 3f], 2);
        var z = Tensor.Randn(new Rng(3), [2, D]);
        using var _ = GradMode.NoGrad();
        var guided = new GuidedDenoiser(net, 1.5).Denoise(x, sigma, new Conditioning(Features: z));
        var c = net.Denoise(x, sigma, new Conditioning(Features: z));
        var u = net.Denoise(x, sigma, new Conditioning(Features: Tensor.Zeros(2, D)));
        var expected = c * 2.5f - u * 1.5f;
        MaxAbsDiff(guided, expected).Should().BeLessThan(1e-4f);
    }
}
