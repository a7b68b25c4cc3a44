using Cedm.Tensors;

namespace Cedm.Diffusion;

/// <summary>
/// What a conditional denoiser is conditioned on, per image: a label/cluster vector (one-hot [N, K], unscaled; the
/// network applies EDM's sqrt(K) scale, spec §2.3), an all-zero row meaning "no condition" (classifier-free
/// guidance, spec §1.5). Later conditioning signals (e.g. a coherence score) are added here as further fields.
/// </summary>
public sealed record Conditioning(Tensor? Labels = null)
{
    public static readonly Conditioning None = new();
}
