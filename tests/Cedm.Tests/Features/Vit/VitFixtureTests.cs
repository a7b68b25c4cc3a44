using Cedm.Features.Vit;
using Cedm.Tensors.Autograd;
using Cedm.Tests.TestUtilities;

namespace Cedm.Tests.Features.Vit;

/// <summary>
/// DINO / DINOv2 ViT against the PyTorch reference of tools/fixtures/make_vit_fixtures.py on small random weights
/// (embed 32, depth 2, heads 2, patch 8): the plain DINO layout (square input: trained grid; rectangular input:
/// interpolated positional embedding), and the DINOv2 layout with LayerScale, register tokens and a mask token,
/// stored as F16, trained at a 3×3 grid and run at 4×4 from grayscale images.
/// </summary>
public class VitFixtureTests
{
    public static TheoryData<string, string, int?> Cases => new()
    {
        { "vit_dino_p8", "square", 2 },
        { "vit_dino_p8", "rect", 2 },
        { "vit_dinov2_ls_reg_p8", "gray", null }, // heads from the file's num_heads metadata
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardMatchesPyTorch(string file, string input, int? heads)
    {
        var f = FixtureFile.Load($"vit/{file}.bin");
        var net = VisionTransformer.Load(NetworkFixtures.PathOf($"vit/{file}.safetensors"), heads);
        using var _ = GradMode.NoGrad();
        NetworkFixtures.AssertMatches(f[$"{input}_features"], net.Forward(f[$"{input}_pixels"]), $"{file}/{input} features");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PreprocessingMatchesPilAndTorchvision(string file, string input, int? heads)
    {
        var f = FixtureFile.Load($"vit/{file}.bin");
        var vit = new VitFeatures(NetworkFixtures.PathOf($"vit/{file}.safetensors"), new VitOptions { Heads = heads, Resolution = 32 });
        var images = NetworkFixtures.Images(f, $"{input}_images");
        // Pillow's resize is reproduced bit-exactly, so only the float normalisation differs.
        TensorAssert.Close(f[$"{input}_pixels"], vit.Preprocess(images, 0, images.Count), 1e-5, 1e-6, $"{file}/{input} pixels");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ExtractMatchesPyTorchEndToEnd(string file, string input, int? heads)
    {
        var f = FixtureFile.Load($"vit/{file}.bin");
        var vit = new VitFeatures(NetworkFixtures.PathOf($"vit/{file}.safetensors"), new VitOptions { Heads = heads, Resolution = 32, BatchSize = 1 });
        var features = vit.Extract(NetworkFixtures.Images(f, $"{input}_images"));
        Assert.Equal(32, vit.Dimension);
        NetworkFixtures.AssertMatches(f[$"{input}_features"], features, $"{file}/{input} extract");
    }

    [Fact]
    public void ConfigIsInferredFromTheTensors()
    {
        var dino = VisionTransformer.Load(NetworkFixtures.PathOf("vit/vit_dino_p8.safetensors"), heads: 2).Config;
        Assert.Equal(new VitConfig(32, 2, 2, 8, 4, 128, false, 0, false), dino);
        Assert.Equal(VitFamily.Dino, dino.Family);
        var v2 = VisionTransformer.Load(NetworkFixtures.PathOf("vit/vit_dinov2_ls_reg_p8.safetensors"));
        Assert.Equal(new VitConfig(32, 2, 2, 8, 3, 128, true, 2, true), v2.Config);
        Assert.Equal(VitFamily.Dinov2, v2.Config.Family);
        Assert.Empty(v2.IgnoredKeys); // mask_token is read (and ignored) on purpose
    }

    [Fact]
    public void PreprocessingFollowsTheFamily()
    {
        var dino = new VitFeatures(NetworkFixtures.PathOf("vit/vit_dino_p8.safetensors"), new VitOptions { Heads = 2 });
        Assert.Equal(VitResize.ShortSide, dino.ResizeMode);
        Assert.Equal((224, 224), dino.TargetSize(32, 32));
        Assert.Equal((224, 298), dino.TargetSize(24, 32)); // int(224 · 32/24) = 298
        Assert.Equal((336, 224), dino.TargetSize(30, 20));
        var v2 = new VitFeatures(NetworkFixtures.PathOf("vit/vit_dinov2_ls_reg_p8.safetensors"));
        Assert.Equal(VitResize.Square, v2.ResizeMode);
        Assert.Equal((224, 224), v2.TargetSize(24, 32));
    }

    [Fact]
    public void InterpolatedPositionalEmbeddingKeepsTheClsPositionAndTheGrid()
    {
        var net = VisionTransformer.Load(NetworkFixtures.PathOf("vit/vit_dinov2_ls_reg_p8.safetensors"));
        var trained = NetworkFixtures.ReadTensors("vit/vit_dinov2_ls_reg_p8.safetensors")["pos_embed"];
        var same = net.PositionalEmbedding(3, 3, squareImage: true);
        Assert.Same(same, net.PositionalEmbedding(3, 3, true));
        TensorAssert.Close(trained, same, 0, 0, "trained grid");
        var big = net.PositionalEmbedding(5, 7, squareImage: false);
        Assert.Equal(new[] { 1, 1 + 35, 32 }, big.ShapeArray());
        TensorAssert.Close(trained.Slice(1, 0, 1), big.Slice(1, 0, 1), 0, 0, "cls position");
        // A 3×3 grid on a non-square image is still resized, as the reference does (scale 3/3.1, not the identity).
        var resized = net.PositionalEmbedding(3, 3, squareImage: false);
        Assert.NotSame(same, resized);
        Assert.True(NetworkFixtures.RelativeError(trained, resized) > 1e-3);
    }
}
