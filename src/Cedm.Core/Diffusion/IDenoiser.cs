using Cedm.Tensors;

namespace Cedm.Diffusion;

/// <summary>
/// The denoiser D(x; σ, c) of EDM (spec §1.2): images x [N, C, H, W] at noise levels σ [N] to denoised images
/// of the same shape. The sampler and the loss see only this seam; preconditioning wraps any backbone, and an
/// exact (closed-form) denoiser can stand in for a network in tests.
/// </summary>
public interface IDenoiser
{
    /// <summary>Conditioning dimension K (0 for an unconditional model).</summary>
    int LabelDim { get; }

    /// <summary>
    /// Whether the model takes a coherence score per image (<see cref="Conditioning.Coherence"/>, CAD, related-seeds
    /// C.1). Off unless an implementation says otherwise, so denoisers written before coherence need no change.
    /// </summary>
    bool HasCoherence => false;

    /// <summary>Dimension of the continuous condition <see cref="Conditioning.Features"/> (0: none; related-seeds B.3).</summary>
    int FeatureDim => 0;

    /// <summary>Channels of the condition image <see cref="Conditioning.Image"/> (0: none; related-seeds A′.1).</summary>
    int ConditionChannels => 0;

    Tensor Denoise(Tensor x, Tensor sigma, Conditioning? condition = null);
}
