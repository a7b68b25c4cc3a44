using Cedm.Features.Networks;
using Cedm.Features.Vit;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;
using Cedm.Tests.TestUtilities;

namespace Cedm.Tests.Features.Vit;

/// <summary>
/// Checkpoint handling of the ViT: the full-size layouts of the released DINO/DINOv2 models (names, shapes,
/// parameter counts), a full-size ViT-S/16 built from random tensors, prefixes, and clear errors for missing,
/// misnamed or misshaped keys.
/// </summary>
public class VitCheckpointTests
{
    [Fact]
    public void ReleasedLayoutsHaveTheKnownParameterCounts()
    {
        // dino_vits16 / dino_vitb16 backbones (no head) and dinov2_vitl14 (with mask_token), as counted by PyTorch
        // for the reference module of make_vit_fixtures.py.
        Assert.Equal(21_665_664, VitConfig.DinoS16.ParameterCount());
        Assert.Equal(85_798_656, VitConfig.DinoB16.ParameterCount());
        Assert.Equal(304_368_640, VitConfig.Dinov2L14.ParameterCount());
        Assert.Equal(150, VitConfig.DinoB16.TensorLayout().Count());
        Assert.Equal(343, VitConfig.Dinov2L14.TensorLayout().Count());
        Assert.Equal([1, 1370, 1024], VitConfig.Dinov2L14.TensorLayout().Single(t => t.Key == "pos_embed").Shape);
    }

    [Theory]
    [InlineData("vit_dino_p8", 2)]
    [InlineData("vit_dinov2_ls_reg_p8", null)]
    public void LayoutNamesAndShapesAreThoseOfTheReferenceModule(string file, int? heads)
    {
        var stored = NetworkFixtures.ReadTensors($"vit/{file}.safetensors");
        var layout = VisionTransformer.Load(NetworkFixtures.PathOf($"vit/{file}.safetensors"), heads).Config.TensorLayout().ToList();
        Assert.Equal(stored.Keys.Order(StringComparer.Ordinal), layout.Select(t => t.Key).Order(StringComparer.Ordinal));
        foreach (var (key, shape) in layout) Assert.Equal(stored[key].ShapeArray(), shape);
    }

    [Fact]
    public void FullSizeVitS16Runs()
    {
        var tensors = NetworkFixtures.RandomTensors(VitConfig.DinoS16.TensorLayout(), new Rng(1));
        var net = new VisionTransformer(PretrainedWeights.FromTensors(tensors, "random-vits16", "cls_token"));
        Assert.Equal(VitConfig.DinoS16, net.Config);
        using var _ = GradMode.NoGrad();
        // 64×64 keeps the test fast (the 224 speed run is in bench/ "features"); it also exercises 14×14 → 4×4 interpolation.
        var y = net.Forward(Tensor.Randn(new Rng(2), [1, 3, 64, 64]));
        Assert.Equal(new[] { 1, 384 }, y.ShapeArray());
        Assert.True(y.AllFinite());
    }

    [Fact]
    public void TrainingPrefixesAreStrippedAndExtraKeysIgnored()
    {
        var plain = NetworkFixtures.ReadTensors("vit/vit_dino_p8.safetensors");
        var prefixed = plain.ToDictionary(kv => "teacher.backbone." + kv.Key, kv => kv.Value);
        prefixed["teacher.head.mlp.0.weight"] = Tensor.Zeros(4, 32);
        var net = new VisionTransformer(PretrainedWeights.FromTensors(prefixed, "teacher.pth", "cls_token"), heads: 2);
        var reference = new VisionTransformer(PretrainedWeights.FromTensors(plain, "plain", "cls_token"), heads: 2);
        Assert.Equal(["teacher.head.mlp.0.weight"], net.IgnoredKeys);
        var x = Tensor.Randn(new Rng(3), [2, 3, 32, 32]);
        using var _ = GradMode.NoGrad();
        TensorAssert.Close(reference.Forward(x), net.Forward(x), 0, 0, "prefixed");
    }

    [Fact]
    public void MissingKeyNamesTheKeyAndTheFile()
    {
        var t = NetworkFixtures.ReadTensors("vit/vit_dino_p8.safetensors");
        t.Remove("blocks.1.mlp.fc2.bias");
        var e = Assert.Throws<InvalidDataException>(() => new VisionTransformer(PretrainedWeights.FromTensors(t, "dino_tiny.safetensors", "cls_token"), 2));
        Assert.Contains("dino_tiny.safetensors", e.Message);
        Assert.Contains("'blocks.1.mlp.fc2.bias'", e.Message);
    }

    [Fact]
    public void MisnamedKeyIsReportedWithSimilarNames()
    {
        var t = NetworkFixtures.ReadTensors("vit/vit_dino_p8.safetensors");
        t["blocks.0.attention.qkv.weight"] = t["blocks.0.attn.qkv.weight"];
        t.Remove("blocks.0.attn.qkv.weight");
        var e = Assert.Throws<InvalidDataException>(() => new VisionTransformer(PretrainedWeights.FromTensors(t, "renamed.safetensors", "cls_token"), 2));
        Assert.Contains("renamed.safetensors: missing tensor 'blocks.0.attn.qkv.weight'", e.Message);
        Assert.Contains("blocks.0.attention.qkv.weight", e.Message);
    }

    [Fact]
    public void MisshapedKeyAndForeignFilesAreRejected()
    {
        var t = NetworkFixtures.ReadTensors("vit/vit_dino_p8.safetensors");
        t["blocks.1.norm2.weight"] = Tensor.Zeros(31);
        var e = Assert.Throws<InvalidDataException>(() => new VisionTransformer(PretrainedWeights.FromTensors(t, "bad.safetensors", "cls_token"), 2));
        Assert.Contains("'blocks.1.norm2.weight' has shape [31], expected [32]", e.Message);

        var foreign = new Dictionary<string, Tensor> { ["conv.weight"] = Tensor.Zeros(2, 2) };
        var e2 = Assert.Throws<InvalidDataException>(() => PretrainedWeights.FromTensors(foreign, "unet.safetensors", "cls_token"));
        Assert.Contains("unet.safetensors: no tensor 'cls_token'", e2.Message);
        Assert.Throws<FileNotFoundException>(() => VisionTransformer.Load("/nonexistent/dino.safetensors"));
    }

    [Fact]
    public void NonStandardWidthNeedsAHeadCount()
    {
        var e = Assert.Throws<InvalidDataException>(() => VisionTransformer.Load(NetworkFixtures.PathOf("vit/vit_dino_p8.safetensors")));
        Assert.Contains("embed dim 32", e.Message);
        Assert.Throws<ArgumentException>(() => VisionTransformer.Load(NetworkFixtures.PathOf("vit/vit_dino_p8.safetensors"), heads: 3));
    }
}
