using Cedm.Tensors;

namespace Cedm.Clustering;

/// <summary>
/// A fitted clustering that can place new feature vectors (e.g. generated samples) into its clusters, with a
/// confidence per vector (spec §6.5: TEMI head max-probability; k-means: softmax over negative distances).
/// Saved in the `cedm cluster` output folder next to clusters.json.
/// </summary>
public interface IClusterModel
{
    int K { get; }

    (int[] Ids, float[] Confidence) Predict(Tensor features);
}
