using Cedm.Features.Inception;
using Cedm.Features.Networks;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;
using Cedm.Tests.TestUtilities;

namespace Cedm.Tests.Features.Inception;

/// <summary>
/// FID Inception-v3 (spec §6.1): a width/16 network with the full topology and F16-stored random weights against
/// the PyTorch reference of tools/fixtures/make_inception_fixtures.py (uint8 → bilinear 299 → [−1, 1] → pool3),
/// the full-size pytorch-fid layout (names, shapes, parameter count) run on random weights, and checkpoint errors.
/// </summary>
public class InceptionTests
{
    private const string Weights = "inception/inception_w16.safetensors";

    [Theory]
    [InlineData("rgb")]
    [InlineData("gray")]
    public void ScaledNetworkMatchesPyTorch(string input)
    {
        var f = FixtureFile.Load("inception/inception_w16.bin");
        var extractor = new InceptionFeatures(NetworkFixtures.PathOf(Weights), batchSize: 1);
        Assert.Equal(128, extractor.Dimension);
        var expected = f[$"{input}_features"];
        Assert.True(expected.Data.Count(v => v > 0) > expected.Size / 2, "the fixture's features should mostly be alive");
        NetworkFixtures.AssertMatches(expected, extractor.Extract(NetworkFixtures.Images(f, $"{input}_images")), $"inception {input}");
    }

    [Fact]
    public void ClassifierAndCountersAreIgnored()
    {
        var net = InceptionV3.Load(NetworkFixtures.PathOf(Weights));
        Assert.Equal(["fc.bias", "fc.weight"], net.IgnoredKeys);
    }

    [Fact]
    public void FullSizeLayoutHasThePytorchFidParameterCount()
    {
        var layout = InceptionV3.TensorLayout().ToList();
        // pytorch-fid's FID Inception (torchvision Inception3, 1008 classes, no aux head), counted by PyTorch:
        // 23 850 960 parameters of which fc has 2 065 392; 94 BatchNorms with 34 432 running-statistic floats.
        long Count(IEnumerable<(string Key, int[] Shape)> t) => t.Sum(x => x.Shape.Aggregate(1L, (a, b) => a * b));
        Assert.Equal(23_850_960, Count(layout.Where(t => !t.Key.Contains("running"))));
        Assert.Equal(21_785_568, Count(layout.Where(t => !t.Key.Contains("running") && !t.Key.StartsWith("fc."))));
        Assert.Equal(34_432, Count(layout.Where(t => t.Key.Contains("running"))));
        Assert.Equal(472, layout.Count); // 94 convs × (weight + 4 BatchNorm tensors) + fc; the file may add 94 num_batches_tracked

        var tensors = NetworkFixtures.RandomTensors(layout, new Rng(7), std: 0.05f);
        foreach (var (key, t) in tensors.Where(kv => kv.Key.EndsWith("running_var")).ToList()) tensors[key] = Tensor.Ones(t.ShapeArray());
        var net = new InceptionV3(PretrainedWeights.FromTensors(tensors, "random-full", "Conv2d_1a_3x3.conv.weight"));
        Assert.Equal(2048, net.FeatureDimension);
        Assert.Equal(["fc.bias", "fc.weight"], net.IgnoredKeys); // every conv/BN key of the layout was read
        using var _ = GradMode.NoGrad();
        var y = net.Forward(Tensor.Rand(new Rng(8), [1, 3, 299, 299], -1f, 1f));
        Assert.Equal(new[] { 1, 2048 }, y.ShapeArray());
        Assert.True(y.AllFinite());
    }

    [Fact]
    public void ScaledFixtureHasTheLayoutDividedBy16()
    {
        var stored = NetworkFixtures.ReadTensors(Weights);
        var expected = InceptionV3.TensorLayout(16, classes: 8).ToDictionary(t => t.Key, t => t.Shape);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), stored.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, shape) in expected) Assert.Equal(shape, stored[key].ShapeArray());
    }

    [Fact]
    public void MissingOrMisshapedKeysNameTheKeyAndTheFile()
    {
        var t = NetworkFixtures.ReadTensors(Weights);
        t.Remove("Mixed_6c.branch7x7dbl_3.bn.running_var");
        var e = Assert.Throws<InvalidDataException>(() => new InceptionV3(PretrainedWeights.FromTensors(t, "fid.safetensors", "Conv2d_1a_3x3.conv.weight")));
        Assert.Contains("fid.safetensors: missing tensor 'Mixed_6c.branch7x7dbl_3.bn.running_var'", e.Message);

        t = NetworkFixtures.ReadTensors(Weights);
        // A 7×1 kernel where the architecture has 1×7 (e.g. a transposed export).
        var w = t["Mixed_6b.branch7x7_2.conv.weight"];
        t["Mixed_6b.branch7x7_2.conv.weight"] = w.Reshape(w.Dim(0), w.Dim(1), 7, 1);
        e = Assert.Throws<InvalidDataException>(() => new InceptionV3(PretrainedWeights.FromTensors(t, "fid.safetensors", "Conv2d_1a_3x3.conv.weight")));
        Assert.Contains("'Mixed_6b.branch7x7_2.conv.weight' has shape [8, 8, 7, 1], expected [*, 8, 1, 7]", e.Message);

        var vit = NetworkFixtures.ReadTensors("vit/vit_dino_p8.safetensors");
        e = Assert.Throws<InvalidDataException>(() => new InceptionV3(PretrainedWeights.FromTensors(vit, "dino.safetensors", "Conv2d_1a_3x3.conv.weight")));
        Assert.Contains("dino.safetensors: no tensor 'Conv2d_1a_3x3.conv.weight'", e.Message);
    }

    [Fact]
    public void PreprocessingIsBilinear299InMinusOneToOne()
    {
        var f = FixtureFile.Load("inception/inception_w16.bin");
        var images = NetworkFixtures.Images(f, "gray_images");
        var x = new InceptionFeatures(NetworkFixtures.PathOf(Weights)).Preprocess(images, 0, 1);
        Assert.Equal(new[] { 1, 3, 299, 299 }, x.ShapeArray());
        Assert.All(x.Data, v => Assert.InRange(v, -1f, 1f));
        // Gray is repeated: the three planes are equal; corner pixels map to the corner input pixel exactly.
        Assert.Equal(x.Slice(1, 0, 1).Data, x.Slice(1, 2, 1).Data);
        Assert.Equal(images.Image(0)[0] / 255f * 2f - 1f, x[0, 0, 0, 0], 5);
    }
}
