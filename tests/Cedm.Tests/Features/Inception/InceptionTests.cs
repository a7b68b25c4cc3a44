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
        var layout = FullSizeLayout().ToList();
        // pytorch-fid's FID Inception (torchvision Inception3, 1008 classes, no aux head), counted by PyTorch:
        // 23 850 960 parameters of which fc has 2 065 392; 94 BatchNorms with 34 432 running-statistic floats.
        long Count(IEnumerable<(string Key, int[] Shape)> t) => t.Sum(x => x.Shape.Aggregate(1L, (a, b) => a * b));
        Assert.Equal(23_850_960, Count(layout.Where(t => !t.Key.Contains("running"))));
        Assert.Equal(21_785_568, Count(layout.Where(t => !t.Key.Contains("running") && !t.Key.StartsWith("fc."))));
        Assert.Equal(34_432, Count(layout.Where(t => t.Key.Contains("running"))));
        Assert.Equal(472, layout.Count); // 94 convs × (weight + 4 BatchNorm tensors) + fc; the file may add 94 num_batches_tracked

        var tensors = NetworkFixtures.RandomTensors(layout, new Rng(7), std: 0.05f);
        foreach (var (key, t) in tensors.Where(kv => kv.Key.EndsWith("running_var")).ToList()) tensors[key] = Tensor.Ones(t.ShapeArray());
        var net = new InceptionV3(Checkpoint.FromTensors(tensors, "random-full", "Conv2d_1a_3x3.conv.weight"));
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
        var expected = FullSizeLayout(16, classes: 8).ToDictionary(t => t.Key, t => t.Shape);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), stored.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, shape) in expected) Assert.Equal(shape, stored[key].ShapeArray());
    }

    [Fact]
    public void MissingOrMisshapedKeysNameTheKeyAndTheFile()
    {
        var t = NetworkFixtures.ReadTensors(Weights);
        t.Remove("Mixed_6c.branch7x7dbl_3.bn.running_var");
        var e = Assert.Throws<InvalidDataException>(() => new InceptionV3(Checkpoint.FromTensors(t, "fid.safetensors", "Conv2d_1a_3x3.conv.weight")));
        Assert.Contains("fid.safetensors: missing tensor 'Mixed_6c.branch7x7dbl_3.bn.running_var'", e.Message);

        t = NetworkFixtures.ReadTensors(Weights);
        // A 7×1 kernel where the architecture has 1×7 (e.g. a transposed export).
        var w = t["Mixed_6b.branch7x7_2.conv.weight"];
        t["Mixed_6b.branch7x7_2.conv.weight"] = w.Reshape(w.Dim(0), w.Dim(1), 7, 1);
        e = Assert.Throws<InvalidDataException>(() => new InceptionV3(Checkpoint.FromTensors(t, "fid.safetensors", "Conv2d_1a_3x3.conv.weight")));
        Assert.Contains("'Mixed_6b.branch7x7_2.conv.weight' has shape [8, 8, 7, 1], expected [*, 8, 1, 7]", e.Message);

        var vit = NetworkFixtures.ReadTensors("vit/vit_dino_p8.safetensors");
        e = Assert.Throws<InvalidDataException>(() => new InceptionV3(Checkpoint.FromTensors(vit, "dino.safetensors", "Conv2d_1a_3x3.conv.weight")));
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

    /// <summary>
    /// The pytorch-fid state-dict layout, written from the architecture facts (torchvision Inception3 channel
    /// counts; <paramref name="divisor"/> scales every width as the fixture script does).
    /// </summary>
    internal static IEnumerable<(string Key, int[] Shape)> FullSizeLayout(int divisor = 1, int classes = 1008)
    {
        int s = divisor;
        var list = new List<(string, int[])>();
        void Conv(string name, int cin, int cout, int kh, int kw)
        {
            list.Add(($"{name}.conv.weight", [cout, cin, kh, kw]));
            foreach (var p in new[] { "weight", "bias", "running_mean", "running_var" }) list.Add(($"{name}.bn.{p}", [cout]));
        }
        Conv("Conv2d_1a_3x3", 3, 32 / s, 3, 3);
        Conv("Conv2d_2a_3x3", 32 / s, 32 / s, 3, 3);
        Conv("Conv2d_2b_3x3", 32 / s, 64 / s, 3, 3);
        Conv("Conv2d_3b_1x1", 64 / s, 80 / s, 1, 1);
        Conv("Conv2d_4a_3x3", 80 / s, 192 / s, 3, 3);
        foreach (var (n, cin, pool) in new[] { ("Mixed_5b", 192, 32), ("Mixed_5c", 256, 64), ("Mixed_5d", 288, 64) })
        {
            Conv($"{n}.branch1x1", cin / s, 64 / s, 1, 1);
            Conv($"{n}.branch5x5_1", cin / s, 48 / s, 1, 1);
            Conv($"{n}.branch5x5_2", 48 / s, 64 / s, 5, 5);
            Conv($"{n}.branch3x3dbl_1", cin / s, 64 / s, 1, 1);
            Conv($"{n}.branch3x3dbl_2", 64 / s, 96 / s, 3, 3);
            Conv($"{n}.branch3x3dbl_3", 96 / s, 96 / s, 3, 3);
            Conv($"{n}.branch_pool", cin / s, pool / s, 1, 1);
        }
        Conv("Mixed_6a.branch3x3", 288 / s, 384 / s, 3, 3);
        Conv("Mixed_6a.branch3x3dbl_1", 288 / s, 64 / s, 1, 1);
        Conv("Mixed_6a.branch3x3dbl_2", 64 / s, 96 / s, 3, 3);
        Conv("Mixed_6a.branch3x3dbl_3", 96 / s, 96 / s, 3, 3);
        foreach (var (n, c7) in new[] { ("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192) })
        {
            int c = c7 / s, cin = 768 / s;
            Conv($"{n}.branch1x1", cin, 192 / s, 1, 1);
            Conv($"{n}.branch7x7_1", cin, c, 1, 1);
            Conv($"{n}.branch7x7_2", c, c, 1, 7);
            Conv($"{n}.branch7x7_3", c, 192 / s, 7, 1);
            Conv($"{n}.branch7x7dbl_1", cin, c, 1, 1);
            Conv($"{n}.branch7x7dbl_2", c, c, 7, 1);
            Conv($"{n}.branch7x7dbl_3", c, c, 1, 7);
            Conv($"{n}.branch7x7dbl_4", c, c, 7, 1);
            Conv($"{n}.branch7x7dbl_5", c, 192 / s, 1, 7);
            Conv($"{n}.branch_pool", cin, 192 / s, 1, 1);
        }
        Conv("Mixed_7a.branch3x3_1", 768 / s, 192 / s, 1, 1);
        Conv("Mixed_7a.branch3x3_2", 192 / s, 320 / s, 3, 3);
        Conv("Mixed_7a.branch7x7x3_1", 768 / s, 192 / s, 1, 1);
        Conv("Mixed_7a.branch7x7x3_2", 192 / s, 192 / s, 1, 7);
        Conv("Mixed_7a.branch7x7x3_3", 192 / s, 192 / s, 7, 1);
        Conv("Mixed_7a.branch7x7x3_4", 192 / s, 192 / s, 3, 3);
        foreach (var (n, cin) in new[] { ("Mixed_7b", 1280), ("Mixed_7c", 2048) })
        {
            Conv($"{n}.branch1x1", cin / s, 320 / s, 1, 1);
            Conv($"{n}.branch3x3_1", cin / s, 384 / s, 1, 1);
            Conv($"{n}.branch3x3_2a", 384 / s, 384 / s, 1, 3);
            Conv($"{n}.branch3x3_2b", 384 / s, 384 / s, 3, 1);
            Conv($"{n}.branch3x3dbl_1", cin / s, 448 / s, 1, 1);
            Conv($"{n}.branch3x3dbl_2", 448 / s, 384 / s, 3, 3);
            Conv($"{n}.branch3x3dbl_3a", 384 / s, 384 / s, 1, 3);
            Conv($"{n}.branch3x3dbl_3b", 384 / s, 384 / s, 3, 1);
            Conv($"{n}.branch_pool", cin / s, 192 / s, 1, 1);
        }
        list.Add(("fc.weight", [classes, 2048 / s]));
        list.Add(("fc.bias", [classes]));
        return list;
    }
}
