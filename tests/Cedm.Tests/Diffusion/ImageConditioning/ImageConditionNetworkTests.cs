using System.Text.Json;
using Cedm.Diffusion;
using Cedm.Diffusion.ImageConditioning;
using Cedm.Diffusion.Networks;
using Cedm.Diffusion.Sampling;
using Cedm.Diffusion.Training;
using Cedm.Nn;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;
using FluentAssertions;

namespace Cedm.Tests.Diffusion.ImageConditioning;

/// <summary>The condition-image input channels of SongUNet and EdmPrecond (related-seeds A′.1).</summary>
public sealed class ImageConditionNetworkTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cedm-imgcond-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static SongUNetOptions Options(int labelDim = 3, int conditionChannels = 1) =>
        TestNets.Micro(labelDim: labelDim) with { ConditionChannels = conditionChannels };

    /// <summary>A micro image-conditioned net with its zero-initialised output conv (and conv1s) randomised, so F sees its input.</summary>
    private static EdmPrecond Net(int labelDim = 3, int conditionChannels = 1)
    {
        var net = new EdmPrecond(Options(labelDim, conditionChannels), new Rng(5));
        var rng = new Rng(9);
        foreach (var (path, p) in net.NamedParameters())
            if (path.Contains("aux_conv", StringComparison.Ordinal) || path.Contains("conv1.weight", StringComparison.Ordinal))
                for (int i = 0; i < p.Size; i++) p.Data[i] = (float)(rng.NextNormal() * 0.2);
        net.SetTraining(false);
        return net;
    }

    private static Tensor Image(ulong seed, int n = 2, int channels = 1) => Tensor.Rand(new Rng(seed), [n, channels, 16, 16], -1f, 1f);

    private static float MaxAbsDiff(Tensor a, Tensor b) => a.Data.Zip(b.Data, (p, q) => Math.Abs(p - q)).Max();

    [Fact]
    public void TheFirstConvWidensAndTheOutputKeepsTheImageChannels()
    {
        var net = Net(conditionChannels: 2);
        var conv = net.NamedParameters().Single(p => p.Path == "model.enc.16x16_conv.weight").Tensor;
        conv.ShapeArray().Should().Equal(8, 1 + 2, 3, 3);
        ((IDenoiser)net).ConditionChannels.Should().Be(2);
        var x = Tensor.Randn(new Rng(2), [2, 1, 16, 16]);
        using var _ = GradMode.NoGrad();
        var d = net.Denoise(x, new Tensor([0.7f, 3f], 2), new Conditioning(OneHot.FromIds([0, 2], 3), Image: Image(3, channels: 2)));
        d.ShapeArray().Should().Equal(2, 1, 16, 16);
        // The parameter paths are those of the same net without condition channels (NVlabs/edm names).
        new EdmPrecond(TestNets.Micro(labelDim: 3), new Rng(5)).StateDict().Keys.Should().BeEquivalentTo(net.StateDict().Keys);
        FluentActions.Invoking(() => net.Model.Forward(x, new Tensor([0f, 0f], 2), null, null, null))
            .Should().Throw<ArgumentException>().WithMessage("*[N, 3, 16, 16] (1 image and 2 condition channels)*");
        FluentActions.Invoking(() => (TestNets.Micro() with { ConditionChannels = -1 }).Validate())
            .Should().Throw<ArgumentException>().WithMessage("*condition_channels must be ≥ 0*");
    }

    [Fact]
    public void AMissingExtraOrMisshapenImageIsAClearError()
    {
        var net = Net();
        var x = Tensor.Randn(new Rng(2), [2, 1, 16, 16]);
        var sigma = new Tensor([0.7f, 3f], 2);
        var labels = OneHot.FromIds([0, 1], 3);
        FluentActions.Invoking(() => net.Denoise(x, sigma, new Conditioning(labels)))
            .Should().Throw<ArgumentException>().WithMessage("*condition_channels 1*give Conditioning.Image*");
        FluentActions.Invoking(() => net.Denoise(x, sigma, new Conditioning(labels, Image: Image(3, n: 3))))
            .Should().Throw<ArgumentException>().WithMessage("*condition image of shape [2, 1, 16, 16]*got [3, 1, 16, 16]*");
        FluentActions.Invoking(() => net.Denoise(x, sigma, new Conditioning(labels, Image: Tensor.Zeros(2, 1, 8, 8))))
            .Should().Throw<ArgumentException>().WithMessage("*x's batch and resolution*");
        var plain = new EdmPrecond(TestNets.Micro(labelDim: 3), new Rng(5));
        FluentActions.Invoking(() => plain.Denoise(x, sigma, new Conditioning(labels, Image: Image(3))))
            .Should().Throw<ArgumentException>().WithMessage("*without condition channels (condition_channels 0)*");
    }

    /// <summary>D = c_skip·x + c_out·F(concat(c_in·x, x̂)): the condition enters unscaled, and it matters.</summary>
    [Fact]
    public void TheConditionImageIsConcatenatedUnscaled()
    {
        var net = Net();
        var x = Tensor.Randn(new Rng(2), [1, 1, 16, 16]) * 3f;
        const double s = 3;   // c_in = 0.33: scaling the condition too would change F clearly
        var labels = OneHot.FromIds([1], 3);
        var image = Image(4, n: 1);
        using var _ = GradMode.NoGrad();
        var d = net.Denoise(x, new Tensor([(float)s], 1), new Conditioning(labels, Image: image));
        Tensor Expected(Tensor condition)
        {
            var f = net.Model.Forward(Tensor.Concat(1, x * (float)EdmPrecond.CIn(s), condition), new Tensor([(float)EdmPrecond.CNoise(s)], 1), labels, null, null);
            return x * (float)EdmPrecond.CSkip(s) + f * (float)EdmPrecond.COut(s);
        }
        TestUtilities.TensorAssert.Close(Expected(image), d, 1e-5, 1e-5, "unscaled condition");
        MaxAbsDiff(Expected(image * (float)EdmPrecond.CIn(s)), d).Should().BeGreaterThan(1e-3f, "a scaled condition gives another output");
        var other = net.Denoise(x, new Tensor([(float)s], 1), new Conditioning(labels, Image: Image(5, n: 1)));
        MaxAbsDiff(other, d).Should().BeGreaterThan(1e-3f, "the condition image changes the output");
    }

    /// <summary>
    /// L = Σ r ⊙ D(x; σ, l, x̂): autograd's gradient w.r.t. the first conv's weights (every element, the condition
    /// channel's slice included) and w.r.t. the condition image against central differences (GradCheck).
    /// </summary>
    [Fact]
    public void GradientsThroughTheConditionChannelsMatchFiniteDifferences()
    {
        var net = Net();
        var x = Tensor.Randn(new Rng(2), [2, 1, 16, 16]);
        var sigma = new Tensor([0.5f, 2f], 2);
        var labels = OneHot.FromIds([2, 0], 3);
        var image = Image(3).RequireGrad();
        var conv = net.NamedParameters().Single(p => p.Path == "model.enc.16x16_conv.weight").Tensor;
        var result = GradCheck.Check(t => net.Denoise(x, sigma, new Conditioning(labels, Image: t[0])), [image, conv], maxPerInput: conv.Size);
        result.Passed.Should().BeTrue(result.ToString());
        result.Checked.Should().BeGreaterThan(conv.Size + 100, "every weight and every third image pixel are checked");
        // The condition channel's slice (input channel 1 of [8, 2, 3, 3]) carries a real gradient, so the check means something.
        var grad = conv.Grad!.Data;
        var conditionSlice = Enumerable.Range(0, 8).SelectMany(o => Enumerable.Range(9 * (2 * o + 1), 9)).Select(i => Math.Abs(grad[i])).ToArray();
        conditionSlice.Max().Should().BeGreaterThan(1e-2f);
        image.Grad!.Data.Select(Math.Abs).Max().Should().BeGreaterThan(1e-3f);
    }

    [Fact]
    public void GuidanceUsesTheZeroImageWithTheZeroLabelAsTheUnconditionalHalf()
    {
        var net = Net();
        var x = Tensor.Randn(new Rng(2), [2, 1, 16, 16]);
        var sigma = new Tensor([0.7f, 3f], 2);
        var labels = OneHot.FromIds([0, 2], 3);
        var image = Image(3);
        using var _ = GradMode.NoGrad();
        var guided = new GuidedDenoiser(net, 1.5).Denoise(x, sigma, new Conditioning(labels, Image: image));
        var conditional = net.Denoise(x, sigma, new Conditioning(labels, Image: image));
        var unconditional = net.Denoise(x, sigma, new Conditioning(Tensor.Zeros(2, 3), Image: Tensor.Zeros(2, 1, 16, 16)));
        MaxAbsDiff(guided, conditional * 2.5f - unconditional * 1.5f).Should().BeLessThan(1e-4f);
        MaxAbsDiff(conditional, unconditional).Should().BeGreaterThan(1e-3f, "the two branches differ");
        // Guiding the null condition itself gives the unconditional branch.
        var guidedNull = new GuidedDenoiser(net, 1.5).Denoise(x, sigma, new Conditioning(Tensor.Zeros(2, 3), Image: Tensor.Zeros(2, 1, 16, 16)));
        MaxAbsDiff(guidedNull, unconditional).Should().BeLessThan(1e-5f);
        // An image-conditioned net without labels can be guided too.
        var imageOnly = Net(labelDim: 0);
        var g = new GuidedDenoiser(imageOnly, 1).Denoise(x, sigma, new Conditioning(Image: image));
        var expected = imageOnly.Denoise(x, sigma, new Conditioning(Image: image)) * 2f - imageOnly.Denoise(x, sigma, new Conditioning(Image: Tensor.Zeros(2, 1, 16, 16)));
        MaxAbsDiff(g, expected).Should().BeLessThan(1e-4f);
    }

    [Fact]
    public void ConfigsAndCheckpointsRoundTripAndOldConfigsLoadWithoutConditionChannels()
    {
        // A network object as written before condition channels existed: no condition_channels key.
        const string oldNetwork = """{"resolution": 16, "in_channels": 1, "out_channels": 1, "label_dim": 3, "augment_dim": 9, "model_channels": 8, "channel_mult": [1, 2], "num_blocks": 1, "attn_resolutions": [8], "dropout": 0}""";
        JsonSerializer.Deserialize<SongUNetOptions>(oldNetwork, RunConfig.Json)!.ConditionChannels.Should().Be(0);
        string oldRun = Path.Combine(_dir, "old");
        Directory.CreateDirectory(oldRun);
        File.WriteAllText(Path.Combine(oldRun, RunConfig.FileName), $$"""{"version": 1, "source": "fashion-mnist", "cond": "labels", "channels": 1, "height": 16, "width": 16, "images": 10, "network": {{oldNetwork}}, "training": {"kimg": 1} }""");
        var loaded = RunConfig.Load(oldRun);
        loaded.Network.ConditionChannels.Should().Be(0);
        loaded.ImageCondition.Should().BeNull();
        loaded.ToJsonNode().ToJsonString().Should().NotContain("image_condition");

        var record = new ImageConditionConfig
        {
            Kind = "treevae", Source = "/runs/treevae", Channels = 1, LeafCount = 3,
            Settings = new System.Text.Json.Nodes.JsonObject { ["leaf_draw"] = "sample" },
        };
        var config = loaded with { Network = Options(), ImageCondition = record };
        string run = Path.Combine(_dir, "new");
        Directory.CreateDirectory(run);
        config.Save(run);
        var text = File.ReadAllText(Path.Combine(run, RunConfig.FileName));
        text.Should().Contain("\"condition_channels\": 1").And.Contain("\"image_condition\"").And.Contain("\"leaf_count\": 3");
        var back = RunConfig.Load(run);
        back.Network.ConditionChannels.Should().Be(1);
        back.ImageCondition!.Kind.Should().Be("treevae");
        back.ImageCondition.Source.Should().Be("/runs/treevae");
        back.ImageCondition.Settings!["leaf_draw"]!.GetValue<string>().Should().Be("sample");

        // A record that does not fit the network, or a network with condition channels and no record, is a damaged file.
        (config with { ImageCondition = record with { Channels = 2 } }).Save(run);
        FluentActions.Invoking(() => RunConfig.Load(run)).Should().Throw<InvalidDataException>().WithMessage("*condition_channels is 1*");
        (config with { ImageCondition = null }).Save(run);
        FluentActions.Invoking(() => RunConfig.Load(run)).Should().Throw<InvalidDataException>().WithMessage("*no image_condition record*");

        // Weights: the widened first conv round-trips through a checkpoint file and does not fit a net without condition channels.
        var net = Net();
        string file = Path.Combine(_dir, "w.safetensors");
        net.SaveSafetensors(file);
        var reloaded = new EdmPrecond(Options(), new Rng(77));
        reloaded.LoadSafetensors(file);
        foreach (var (key, t) in net.StateDict()) reloaded.StateDict()[key].Data.Should().Equal(t.Data, key);
        FluentActions.Invoking(() => new EdmPrecond(TestNets.Micro(labelDim: 3), new Rng(0)).LoadSafetensors(file))
            .Should().Throw<StateDictException>().WithMessage("*enc.16x16_conv.weight*");
    }
}
