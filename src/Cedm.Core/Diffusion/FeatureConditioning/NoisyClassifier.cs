using Cedm.Diffusion.Networks;
using Cedm.Nn;
using Cedm.Tensors;

namespace Cedm.Diffusion.FeatureConditioning;

/// <summary>
/// The auxiliary classifier of related-seeds B.1/B.3 item 4 (our design): a small conv net on noisy images
/// c_in(σ)·x conditioned on σ through EDM's noise embedding of c_noise = ln σ / 4. Its head gives either a point e in
/// the whitened feature space (trained with NGMG against the fitted mixture) or K logits (trained with CE, the BCE/CE
/// baseline). Layout: conv3×3(C→w) SiLU, conv3×3 stride 2 (w→2w) SiLU, conv3×3 stride 2 (2w→2w) SiLU, spatial mean,
/// plus Linear(noise embedding) → SiLU → Linear(2w → out).
/// </summary>
public sealed class NoisyClassifier : Module
{
    private readonly Conv2d _c0, _c1, _c2;
    private readonly PositionalEmbedding _noise;
    private readonly Linear _mapNoise, _head0, _head1;

    public NoisyClassifier(int channels, int outputs, Rng rng, int width = 16)
    {
        ArgumentNullException.ThrowIfNull(rng);
        Outputs = outputs;
        _c0 = RegisterModule("c0", new Conv2d(channels, width, 3, rng));
        _c1 = RegisterModule("c1", new Conv2d(width, 2 * width, 3, rng, stride: 2));
        _c2 = RegisterModule("c2", new Conv2d(2 * width, 2 * width, 3, rng, stride: 2));
        _noise = new PositionalEmbedding(2 * width);
        _mapNoise = RegisterModule("map_noise", new Linear(2 * width, 2 * width, rng));
        _head0 = RegisterModule("head0", new Linear(2 * width, 2 * width, rng));
        _head1 = RegisterModule("head1", new Linear(2 * width, outputs, rng));
    }

    /// <summary>Output width: d (NGMG head) or K (CE head).</summary>
    public int Outputs { get; }

    /// <summary>x [N, C, H, W] at noise levels σ [N] (raw noisy images; c_in is applied here) → [N, outputs].</summary>
    public Tensor Forward(Tensor x, Tensor sigma)
    {
        int n = x.Dim(0);
        var cIn = new float[n];
        var cNoise = new float[n];
        for (int i = 0; i < n; i++)
        {
            double s = sigma.Data[sigma.Size == 1 ? 0 : i];
            cIn[i] = (float)EdmPrecond.CIn(s);
            cNoise[i] = (float)EdmPrecond.CNoise(s);
        }
        var h = _c0.Forward(x * new Tensor(cIn, n, 1, 1, 1)).Silu();
        h = _c1.Forward(h).Silu();
        h = _c2.Forward(h).Silu();
        h = h.Mean([2, 3]) + _mapNoise.Forward(_noise.Forward(new Tensor(cNoise, n)));
        return _head1.Forward(_head0.Forward(h.Silu()).Silu());
    }
}
