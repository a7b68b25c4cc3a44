using Cedm.Features.Networks;
using Cedm.Tensors;

namespace Cedm.Features.Vit;

/// <summary>
/// One pre-norm transformer block: x += ls1·proj(attn(LN1(x))); x += ls2·fc2(GELU(fc1(LN2(x)))). LayerNorm eps 1e-6,
/// exact (erf) GELU, qkv output laid out [3, heads, head_dim] as in the DINO/DINOv2 code; ls1/ls2 only for DINOv2.
/// </summary>
internal sealed class VitBlock
{
    private const float LayerNormEps = 1e-6f;
    private readonly Tensor _norm1W, _norm1B, _qkvW, _qkvB, _projW, _projB, _norm2W, _norm2B, _fc1W, _fc1B, _fc2W, _fc2B;
    private readonly Tensor? _ls1, _ls2;
    private readonly int _heads;

    public VitBlock(PretrainedWeights ck, int index, VitConfig cfg)
    {
        string p = $"blocks.{index}.";
        int d = cfg.EmbedDim, hid = cfg.MlpHidden;
        _heads = cfg.Heads;
        _norm1W = ck.Require(p + "norm1.weight", d);
        _norm1B = ck.Require(p + "norm1.bias", d);
        _qkvW = ck.Require(p + "attn.qkv.weight", 3 * d, d);
        _qkvB = ck.Require(p + "attn.qkv.bias", 3 * d);
        _projW = ck.Require(p + "attn.proj.weight", d, d);
        _projB = ck.Require(p + "attn.proj.bias", d);
        _norm2W = ck.Require(p + "norm2.weight", d);
        _norm2B = ck.Require(p + "norm2.bias", d);
        _fc1W = ck.Require(p + "mlp.fc1.weight", hid, d);
        _fc1B = ck.Require(p + "mlp.fc1.bias", hid);
        _fc2W = ck.Require(p + "mlp.fc2.weight", d, hid);
        _fc2B = ck.Require(p + "mlp.fc2.bias", d);
        if (cfg.LayerScale)
        {
            _ls1 = ck.Require(p + "ls1.gamma", d);
            _ls2 = ck.Require(p + "ls2.gamma", d);
        }
    }

    /// <summary>x: [N, T, D] → [N, T, D].</summary>
    public Tensor Forward(Tensor x)
    {
        var a = Attention(Tensor.LayerNorm(x, _norm1W, _norm1B, LayerNormEps));
        x = x + (_ls1 == null ? a : a * _ls1);
        int n = x.Dim(0), t = x.Dim(1), d = x.Dim(2);
        var h = Tensor.LayerNorm(x, _norm2W, _norm2B, LayerNormEps).Reshape(n * t, d);
        // fc1's bias and the GELU in one pass.
        h = Tensor.AddBiasActivation(Tensor.Linear(h, _fc1W), _fc1B, Activation.Gelu);
        var m = Tensor.Linear(h, _fc2W, _fc2B).Reshape(n, t, d);
        return x + (_ls2 == null ? m : m * _ls2);
    }

    private Tensor Attention(Tensor x)
    {
        int n = x.Dim(0), t = x.Dim(1), d = x.Dim(2), hd = d / _heads;
        // [N, T, 3D] → [3, N, heads, T, hd]: q, k, v per (sample, head) as contiguous [T, hd] blocks.
        var qkv = Tensor.Linear(x, _qkvW, _qkvB).Reshape(n, t, 3, _heads, hd).Permute(2, 0, 3, 1, 4);
        Tensor Part(int i) => qkv.Slice(0, i, 1).Reshape(n * _heads, t, hd);
        var o = Tensor.ScaledDotProductAttention(Part(0), Part(1), Part(2));
        var merged = o.Reshape(n, _heads, t, hd).Permute(0, 2, 1, 3).Reshape(n, t, d);
        return Tensor.Linear(merged, _projW, _projB);
    }
}
