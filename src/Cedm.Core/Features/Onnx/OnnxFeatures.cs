using Cedm.Data;
using Cedm.Tensors;

namespace Cedm.Features.Onnx;

/// <summary>
/// <c>onnx:&lt;model.onnx&gt;[:&lt;output&gt;]</c>: features from any ONNX image model exported elsewhere (DINOv2, CLIP's
/// image tower, Inception-v3 for FID), run through ONNX Runtime; the named output (default: the graph's first) is
/// flattened per image. Input contract: float32 NCHW, RGB (gray repeated to 3 channels; a 1-channel graph gets the
/// gray image), v/255 normalised with the ImageNet mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225), which
/// torchvision models and DINOv2 expect; a model trained with another normalisation (CLIP, the FID Inception's
/// [−1, 1]) should be exported with that affine map as its first layer. Size: the graph's fixed H×W; a symbolic
/// size takes the images at 224×224. Resizing is bilinear (align_corners=False), antialiased when shrinking.
/// Batches of <see cref="BatchSize"/> (image by image where the graph fixes N = 1).
/// </summary>
public sealed class OnnxFeatures : IFeatureExtractor, IDisposable
{
    /// <summary>The size a graph with symbolic H and W is fed at.</summary>
    public const int DefaultSize = 224;

    public static readonly float[] ImageNetMean = [0.485f, 0.456f, 0.406f];
    public static readonly float[] ImageNetStd = [0.229f, 0.224f, 0.225f];

    private readonly OnnxRuntimeSession _session;
    private readonly string _path;
    private readonly string? _output;

    public OnnxFeatures(string path, string? outputName = null, int batchSize = 16)
    {
        if (batchSize < 1) throw new ArgumentException($"onnx: batch size must be >= 1, got {batchSize}.");
        _session = new OnnxRuntimeSession(path, outputName);
        if (_session.InputDims[1] is not (1 or 3 or -1))
            throw new InvalidDataException($"{path}: input '{_session.InputName}' takes {_session.InputDims[1]} channels; an image model takes 1 or 3.");
        _path = path;
        _output = outputName;
        BatchSize = batchSize;
        Height = _session.InputDims[2] > 0 ? _session.InputDims[2] : DefaultSize;
        Width = _session.InputDims[3] > 0 ? _session.InputDims[3] : DefaultSize;
        // One probe image fixes the feature length (output shapes are often symbolic in the metadata).
        Dimension = _session.Run(Tensor.Zeros(1, _session.Channels, Height, Width)).Size;
    }

    public int BatchSize { get; }

    public int Height { get; }

    public int Width { get; }

    public string Name => _output is null ? $"onnx:{_path}" : $"onnx:{_path}:{_output}";

    public int Dimension { get; }

    /// <summary>Images [start, start + count) as the model input [count, C, H, W].</summary>
    public Tensor Preprocess(ImageDataset images, int start, int count)
    {
        ImageBatch.RequireGrayOrRgb(images, "onnx");
        int h = images.Height, w = images.Width, plane = 3 * h * w;
        var x = Tensor.Zeros(count, 3, h, w);
        for (int i = 0; i < count; i++)
            ImageBatch.ToNormalizedPlanes(images.Image(start + i), h, w, images.Channels, ImageNetMean, ImageNetStd, x.Data.AsSpan(i * plane, plane));
        if (h != Height || w != Width) x = x.Resize2d(Height, Width, ResizeFilter.Bilinear, antialias: Height < h || Width < w);
        return _session.Channels == 1 ? x.Slice(1, 0, 1) : x;
    }

    public Tensor Extract(ImageDataset images, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ImageBatch.RequireGrayOrRgb(images, "onnx");
        return ImageBatch.MapBatches(images.Count, BatchSize, Dimension, (start, count) => _session.Run(Preprocess(images, start, count)).Reshape(count, -1), progress);
    }

    /// <summary>"onnx:&lt;path&gt;" or "onnx:&lt;path&gt;:&lt;output&gt;" (the path ends in .onnx; what follows its last ':' is the output).</summary>
    public static OnnxFeatures FromSpec(string spec, string arg)
    {
        if (arg.Length == 0) throw new ArgumentException($"extractor '{spec}' needs a model file: onnx:<model.onnx>[:<output>]");
        string path = arg;
        string? output = null;
        int colon = arg.LastIndexOf(':');
        if (!arg.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) && colon > 0)
        {
            path = arg[..colon];
            output = arg[(colon + 1)..];
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"extractor '{spec}': ONNX model not found: {path}", path);
        return new OnnxFeatures(path, output);
    }

    public void Dispose() => _session.Dispose();
}
