using Cedm.Tensors;

namespace Cedm.Diffusion;

/// <summary>
/// What a conditional denoiser is conditioned on, per image: a label/cluster vector (one-hot [N, K], unscaled; the
/// network applies EDM's sqrt(K) scale, spec §2.3), an all-zero row meaning "no condition" (classifier-free
/// guidance, spec §1.5), and — for a coherence-aware model (CAD, related-seeds C.1, D.1) — a coherence score per
/// image ([N], values in [0, 1]; null = 1 for such a model; 0 pairs with the null condition) — and, for a
/// feature-conditioned model (related-seeds B.3), a continuous condition vector per image ([N, d]; an all-zero row
/// or null = no condition) — and, for an image-conditioned model (related-seeds A′.1, Diffuse-TreeVAE), a clean
/// condition image per image ([N, C_c, H, W] in [−1, 1], the resolution of x; required by such a model, and an
/// all-zero image is its null condition).
/// </summary>
public sealed record Conditioning(Tensor? Labels = null, Tensor? Coherence = null, Tensor? Features = null, Tensor? Image = null)
{
    public static readonly Conditioning None = new();
}
