using Cedm.Nn;
using Cedm.Tensors;

namespace Cedm.Diffusion.Networks;

/// <summary>
/// The continuous condition mapper of a feature-conditioned <see cref="SongUNet"/> (related-seeds B.3 item 2, our
/// design): a vector z ∈ R^d (an image's own whitened feature, a cluster centroid, or a draw from a fitted Gaussian)
/// goes through Linear(d→nc) → SiLU → Linear(nc→nc) and is added where EDM adds <c>map_label</c>, before the
/// nc → E → E mapping MLP. Registered as <c>map_feat</c> (<c>fc0</c>, <c>fc1</c>), which EDM checkpoints do not have.
/// The all-zero vector is the null condition (classifier-free dropout and guidance), as the zero row is for labels.
/// <para>Unlike coherence scores, z takes a gradient: the input is a tensor like any other, so guidance or a learned
/// prior could differentiate through it (and the finite-difference test checks both paths).</para>
/// </summary>
public sealed class FeatureEmbedding : Module
{
    private readonly Linear _fc0, _fc1;

    /// <summary>Condition dimension d.</summary>
    public int Dimension { get; }

    public FeatureEmbedding(int dimension, int channels, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        Dimension = dimension;
        _fc0 = RegisterModule("fc0", new Linear(dimension, channels, rng, init: WeightInit.Song));
        _fc1 = RegisterModule("fc1", new Linear(channels, channels, rng, init: WeightInit.Song));
    }

    /// <summary>z [N, d] → [N, nc].</summary>
    public Tensor Forward(Tensor z)
    {
        ArgumentNullException.ThrowIfNull(z);
        if (z.Rank != 2 || z.Dim(1) != Dimension)
            throw new ArgumentException($"The feature embedding expects z of shape [N, {Dimension}], got {Shapes.Format(z.Shape)}.");
        return _fc1.Forward(_fc0.Forward(z).Silu());
    }
}
