using Cedm.Data;
using Cedm.Tensors;

namespace Cedm.Features;

/// <summary>
/// Maps images to feature vectors [N, D] (style notes §5.6): the input of clustering and of every Fréchet-type
/// metric. Written as features.npy (float32 [N, D]) plus a JSON side file naming the extractor and its options.
/// </summary>
public interface IFeatureExtractor
{
    /// <summary>The spec string that recreates this extractor (e.g. "pca:64", "pixels", "vit:weights.safetensors").</summary>
    string Name { get; }

    /// <summary>Feature dimension D.</summary>
    int Dimension { get; }

    Tensor Extract(ImageDataset images, IProgress<double>? progress = null);
}
