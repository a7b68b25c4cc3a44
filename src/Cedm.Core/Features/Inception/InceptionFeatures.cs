using Cedm.Data;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Features.Inception;

/// <summary>
/// <c>inception:&lt;weights.safetensors&gt;</c>: 2048-d pool3 features of the FID Inception-v3 (spec §6.1), with
/// pytorch-fid's input path: uint8 → [0, 1] → bilinear resize to 299×299 (align_corners=False, no antialias, as
/// <c>F.interpolate</c> there) → 2x − 1; 1-channel images are repeated to 3. The StyleGAN3/EDM TensorFlow-graph
/// detector resizes differently (spec §8.7), so FIDs from it can differ slightly from ours.
/// Batches run under <see cref="GradMode.NoGrad"/>; the convolutions parallelise over the batch.
/// </summary>
public sealed class InceptionFeatures : IFeatureExtractor
{
    /// <summary>The detector's input size.</summary>
    public const int InputSize = 299;

    private readonly string _weightsPath;

    public InceptionFeatures(string weightsPath, int batchSize = 16)
        : this(InceptionV3.Load(weightsPath), weightsPath, batchSize) { }

    public InceptionFeatures(InceptionV3 network, string name, int batchSize = 16)
    {
        if (batchSize < 1) throw new ArgumentException($"inception: batch size must be >= 1, got {batchSize}.");
        Network = network;
        BatchSize = batchSize;
        _weightsPath = name;
    }

    public InceptionV3 Network { get; }

    public int BatchSize { get; }

    public string Name => $"inception:{_weightsPath}";

    public int Dimension => Network.FeatureDimension;

    /// <summary>Images [start, start + count) as the network input [count, 3, 299, 299] in [−1, 1].</summary>
    public Tensor Preprocess(ImageDataset images, int start, int count)
    {
        ImageBatch.RequireGrayOrRgb(images, "inception");
        int h = images.Height, w = images.Width, plane = 3 * h * w;
        var x = Tensor.Zeros(count, 3, h, w);
        ReadOnlySpan<float> zero = [0f, 0f, 0f], one = [1f, 1f, 1f];
        for (int i = 0; i < count; i++)
            ImageBatch.ToNormalizedPlanes(images.Image(start + i), h, w, images.Channels, zero, one, x.Data.AsSpan(i * plane, plane));
        return x.Resize2d(InputSize, InputSize, ResizeFilter.Bilinear) * 2f - 1f;
    }

    public Tensor Extract(ImageDataset images, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ImageBatch.RequireGrayOrRgb(images, "inception");
        int d = Dimension;
        var features = Tensor.Zeros(images.Count, d);
        using var _ = GradMode.NoGrad();
        for (int start = 0; start < images.Count; start += BatchSize)
        {
            int count = Math.Min(BatchSize, images.Count - start);
            var f = Network.Forward(Preprocess(images, start, count));
            f.Data.AsSpan(0, count * d).CopyTo(features.Data.AsSpan(start * d, count * d));
            progress?.Report((double)(start + count) / images.Count);
        }
        return features;
    }
}
