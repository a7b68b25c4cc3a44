using Cedm.Benchmarks.Harness;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Benchmarks.Suites;

/// <summary>
/// The UNet's hot "GroupNorm → SiLU" (spec §2.2: 64 channels → 16 groups, eps 1e-6) on [64, 64, 32, 32], fused and
/// unfused, forward and forward+backward; the fused bias + SiLU against its composition; and the block's spatial
/// self-attention at 16×16 (C = 128, 1 head). Peer: bench/peers/groupnorm.py (F.silu(F.group_norm(...)) etc.).
/// </summary>
public sealed class GroupNormSuite : IBenchSuite
{
    private static readonly int[] Shape = [64, 64, 32, 32];
    private const int Groups = 16;

    public string Name => "groupnorm";
    public string Description => "GroupNorm(16 groups, 64 ch)+SiLU on [64,64,32,32] fwd / fwd+bwd, bias+SiLU, 16x16 attention vs torch";
    public string? PeerScript => "groupnorm.py";

    public IReadOnlyList<BenchCase> Cases { get; } =
    [
        new("gn-silu-fwd/fused", "gn-silu-fwd", null, () => GnSilu(fused: true, backward: false)),
        new("gn-silu-fwd/unfused", "gn-silu-fwd", null, () => GnSilu(fused: false, backward: false)),
        new("gn-silu-fwdbwd/fused", "gn-silu-fwdbwd", null, () => GnSilu(fused: true, backward: true)),
        new("gn-silu-fwdbwd/unfused", "gn-silu-fwdbwd", null, () => GnSilu(fused: false, backward: true)),
        new("bias-silu-fwdbwd/fused", "bias-silu-fwdbwd", null, () => BiasSilu(fused: true)),
        new("bias-silu-fwdbwd/unfused", "bias-silu-fwdbwd", null, () => BiasSilu(fused: false)),
        new("attn16-fwd", "attn16-fwd", null, () => Attention(backward: false)),
        new("attn16-fwdbwd", "attn16-fwdbwd", null, () => Attention(backward: true)),
    ];

    private static Action GnSilu(bool fused, bool backward)
    {
        var rng = new Rng(1234);
        var x = Tensor.Randn(rng, Shape);
        var gamma = Tensor.Randn(rng, [Shape[1]], 1f, 0.1f);
        var beta = Tensor.Randn(rng, [Shape[1]], 0f, 0.1f);
        var gy = Tensor.Randn(rng, Shape);
        Tensor Forward() => fused
            ? Tensor.GroupNorm(x, Groups, gamma, beta, 1e-6f, silu: true)
            : Tensor.GroupNorm(x, Groups, gamma, beta, 1e-6f).Silu();
        if (!backward)
            return () => { using var _ = GradMode.NoGrad(); Forward(); };
        x.RequireGrad(); gamma.RequireGrad(); beta.RequireGrad();
        return () =>
        {
            x.ZeroGrad(); gamma.ZeroGrad(); beta.ZeroGrad();
            Forward().Backward(gy);
        };
    }

    private static Action BiasSilu(bool fused)
    {
        var rng = new Rng(99);
        var x = Tensor.Randn(rng, Shape).RequireGrad();
        var bias = Tensor.Randn(rng, [Shape[1]]).RequireGrad();
        var gy = Tensor.Randn(rng, Shape);
        return () =>
        {
            x.ZeroGrad(); bias.ZeroGrad();
            var y = fused ? Tensor.AddBiasActivation(x, bias, Activation.Silu) : (x + bias.Reshape(1, Shape[1], 1, 1)).Silu();
            y.Backward(gy);
        };
    }

    private static Action Attention(bool backward)
    {
        var rng = new Rng(7);
        int b = 16, c = 128;
        var qkv = Tensor.Randn(rng, [b, 3 * c, 16, 16]);
        var gy = Tensor.Randn(rng, [b, c, 16, 16]);
        if (!backward)
            return () => { using var _ = GradMode.NoGrad(); Tensor.SpatialSelfAttention(qkv, 1); };
        qkv.RequireGrad();
        return () => { qkv.ZeroGrad(); Tensor.SpatialSelfAttention(qkv, 1).Backward(gy); };
    }
}
