using Cedm.Data;
using Cedm.Imaging;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Features.Vit;

/// <summary>
/// <c>vit:&lt;weights.safetensors&gt;</c>: CLS features of a DINO / DINOv2 ViT (spec §4.1: DINO ViT-B/16, 768-d, the
/// clustering input; §6.2: DINOv2 ViT-L/14, 1024-d, for FDD). Preprocessing as the reference pipelines run it
/// with torchvision on PIL images: Pillow bicubic resize (antialiased when shrinking; reproduced bit-exactly by
/// <see cref="PilResize"/>, including Pillow's rounding to uint8), gray → RGB, /255, ImageNet mean/std.
/// Batches run under <see cref="GradMode.NoGrad"/>; preprocessing is parallel over images, the network's GEMMs
/// and attention use <see cref="EnginePolicy.Threads"/>.
/// </summary>
public sealed class VitFeatures : IFeatureExtractor
{
    private readonly string _weightsPath;

    public VitFeatures(string weightsPath, VitOptions? options = null)
        : this(VisionTransformer.Load(weightsPath, options?.Heads, (options ?? new()).PosEmbedOffset), weightsPath, options) { }

    /// <summary>Wraps a network already built (tests, in-memory checkpoints).</summary>
    public VitFeatures(VisionTransformer network, string name, VitOptions? options = null)
    {
        Network = network;
        Options = options ?? new VitOptions();
        if (Options.Resolution < network.Config.PatchSize)
            throw new ArgumentException($"vit: resolution {Options.Resolution} is smaller than the {network.Config.PatchSize}-pixel patch.");
        if (Options.BatchSize < 1) throw new ArgumentException($"vit: batch size must be >= 1, got {Options.BatchSize}.");
        if (Options.Mean.Length != 3 || Options.Std.Length != 3 || Options.Std.Any(s => !(s > 0)))
            throw new ArgumentException("vit: mean and std need 3 entries each, std > 0.");
        _weightsPath = name;
    }

    public VisionTransformer Network { get; }

    public VitOptions Options { get; }

    public string Name => $"vit:{_weightsPath}";

    public int Dimension => Network.Config.EmbedDim;

    /// <summary>The resize actually used (Auto resolved from the checkpoint's family).</summary>
    public VitResize ResizeMode => Options.Resize != VitResize.Auto ? Options.Resize
        : Network.Config.Family == VitFamily.Dino ? VitResize.ShortSide : VitResize.Square;

    /// <summary>Network input size for an h×w image: short side (or both sides) to the resolution.</summary>
    public (int H, int W) TargetSize(int h, int w)
    {
        int r = Options.Resolution;
        if (ResizeMode == VitResize.Square) return (r, r);
        // torchvision: the long side becomes int(R · long / short) (truncated).
        return h <= w ? (r, (int)((long)r * w / h)) : ((int)((long)r * h / w), r);
    }

    /// <summary>Images [start, start + count) as the normalised network input [count, 3, H', W'].</summary>
    public Tensor Preprocess(ImageDataset images, int start, int count)
    {
        ImageBatch.RequireGrayOrRgb(images, "vit");
        var (th, tw) = TargetSize(images.Height, images.Width);
        var x = Tensor.Zeros(count, 3, th, tw);
        int c = images.Channels, plane = 3 * th * tw;
        Parallel.For(0, count, EnginePolicy.Current.ParallelOptions, i =>
        {
            var img = images.Image(start + i);
            byte[] resized = th == images.Height && tw == images.Width ? img.ToArray()
                : PilResize.Resize(img, images.Height, images.Width, c, th, tw, ResizeFilter.Bicubic);
            ImageBatch.ToNormalizedPlanes(resized, th, tw, c, Options.Mean, Options.Std, x.Data.AsSpan(i * plane, plane));
        });
        return x;
    }

    public Tensor Extract(ImageDataset images, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ImageBatch.RequireGrayOrRgb(images, "vit");
        int d = Dimension;
        var features = Tensor.Zeros(images.Count, d);
        using var _ = GradMode.NoGrad();
        for (int start = 0; start < images.Count; start += Options.BatchSize)
        {
            int count = Math.Min(Options.BatchSize, images.Count - start);
            var f = Network.Forward(Preprocess(images, start, count));
            f.Data.AsSpan(0, count * d).CopyTo(features.Data.AsSpan(start * d, count * d));
            progress?.Report((double)(start + count) / images.Count);
        }
        return features;
    }
}
