using Cedm.Tensors;

namespace Cedm.Clustering;

/// <summary>
/// Turns features [N, D] into a <see cref="ClusterAssignment"/>: the seam between the feature stage and the
/// conditioning stage (style notes §5.6). Randomness comes from the given <see cref="Rng"/>.
/// </summary>
public interface IClusterer
{
    /// <summary>Method name as written to clusters.json ("kmeans", "gmm", "agglo", "temi").</summary>
    string Method { get; }

    ClusterAssignment Fit(Tensor features, Rng rng, IProgress<double>? progress = null);
}
