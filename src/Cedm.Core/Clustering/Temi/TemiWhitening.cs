using Cedm.Metrics;
using Cedm.Tensors;

namespace Cedm.Clustering.Temi;

/// <summary>
/// TEMI's input transform (ours; spec §4.1 feeds the raw embeddings): centre the features and PCA-whiten them to
/// <see cref="Dimension"/> values (<see cref="FeatureWhitening"/>) before the cosine kNN and the heads. Why: on
/// uncentred non-negative features (ResNet-18's ReLU averages: mean 1.10, 65 % non-zero) all cosine neighbours look
/// alike and the heads put 60 000 Fashion-MNIST images into 2 clusters of 10 (docs/clustering.md); TEMI's reference
/// features (DINO) are roughly centred. Kept in the saved model, so prediction sees what training saw.
/// </summary>
public sealed class TemiWhitening
{
    public TemiWhitening(float[] mean, float[] projection)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(projection);
        if (mean.Length == 0 || projection.Length == 0 || projection.Length % mean.Length != 0)
            throw new ArgumentException($"whitening: a projection of {projection.Length} values does not fit a mean of {mean.Length}");
        Mean = mean; Projection = projection;
    }

    /// <summary>μ of the fitting features [D].</summary>
    public float[] Mean { get; }

    /// <summary>Rows v_k/√λ_k [d, D].</summary>
    public float[] Projection { get; }

    public int InputDim => Mean.Length;

    public int Dimension => Projection.Length / Mean.Length;

    /// <summary>Fits on <paramref name="features"/> [N, D] to min(<paramref name="dimension"/>, D) values.</summary>
    public static TemiWhitening Fit(Tensor features, int dimension)
    {
        int n = features.Dim(0), d = features.Dim(1);
        var (mean, projection, _) = FeatureWhitening.Fit(features.Data, n, d, Math.Min(dimension, d));
        return new TemiWhitening(mean, projection);
    }

    /// <summary>(x − μ)·Pᵀ for [N, D] features: [N, d] (<see cref="CentredProjection.Apply"/>).</summary>
    public Tensor Apply(Tensor features)
    {
        if (features.Rank != 2 || features.Dim(1) != InputDim)
            throw new ArgumentException($"whitening expects features [N, {InputDim}], got {Shapes.Format(features.Shape)}.");
        return new Tensor(CentredProjection.Apply(features.Data, features.Dim(0), Mean, Projection), features.Dim(0), Dimension);
    }
}
