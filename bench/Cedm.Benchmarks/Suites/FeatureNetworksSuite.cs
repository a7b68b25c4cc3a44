using Cedm.Benchmarks.Harness;
using Cedm.Features.Inception;
using Cedm.Features.Networks;
using Cedm.Features.Vit;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Benchmarks.Suites;

/// <summary>
/// Forward passes of the full-size pretrained feature networks on random weights (spec §4.1, §6.1, §6.2): DINO
/// ViT-S/16 and ViT-B/16 at 224×224 and the FID Inception-v3 at 299×299, batch 8, network only (no resize).
/// FLOPs count a multiply-add as 2. Peer: bench/peers/features.py (the fixture scripts' PyTorch reference modules
/// in float32 under no_grad).
/// </summary>
public sealed class FeatureNetworksSuite : IBenchSuite
{
    private const int Batch = 8;

    public string Name => "features";
    public string Description => "ViT-S/16, ViT-B/16 @224 and FID Inception-v3 @299 forward, batch 8, random weights vs torch";
    public string? PeerScript => "features.py";

    public IReadOnlyList<BenchCase> Cases { get; } =
    [
        new("vit-s16-224-b8", "vit-s16-224-b8", Batch * VitFlops(VitConfig.DinoS16, 224), () => Vit(VitConfig.DinoS16)),
        new("vit-b16-224-b8", "vit-b16-224-b8", Batch * VitFlops(VitConfig.DinoB16, 224), () => Vit(VitConfig.DinoB16)),
        new("inception-299-b8", "inception-299-b8", Batch * 2 * 5.71e9, Inception), // 5.71 G multiply-adds per image
    ];

    /// <summary>Per image: patch embedding, per block 24·T·D² (qkv, proj, MLP 4D) + 4·T²·D (attention).</summary>
    private static double VitFlops(VitConfig c, int size)
    {
        double g = size / c.PatchSize, t = g * g + 1, d = c.EmbedDim;
        return 2 * g * g * d * 3 * c.PatchSize * c.PatchSize + c.Depth * (24 * t * d * d + 4 * t * t * d);
    }

    private static Action Vit(VitConfig config)
    {
        var rng = new Rng(1);
        var net = new VisionTransformer(PretrainedWeights.FromTensors(Random(config.TensorLayout(), rng), "random", "cls_token"));
        var x = Tensor.Randn(rng, [Batch, 3, 224, 224]);
        return () => { using var _ = GradMode.NoGrad(); net.Forward(x); };
    }

    private static Action Inception()
    {
        var rng = new Rng(2);
        var tensors = Random(InceptionV3.TensorLayout(), rng);
        foreach (var key in tensors.Keys.Where(k => k.EndsWith("running_var")).ToList()) tensors[key] = Tensor.Ones(tensors[key].ShapeArray());
        var net = new InceptionV3(PretrainedWeights.FromTensors(tensors, "random", "Conv2d_1a_3x3.conv.weight"));
        var x = Tensor.Rand(rng, [Batch, 3, 299, 299], -1f, 1f);
        return () => { using var _ = GradMode.NoGrad(); net.Forward(x); };
    }

    private static Dictionary<string, Tensor> Random(IEnumerable<(string Key, int[] Shape)> layout, Rng rng) =>
        layout.ToDictionary(t => t.Key, t => Tensor.Randn(rng, t.Shape, 0f, 0.02f), StringComparer.Ordinal);
}
