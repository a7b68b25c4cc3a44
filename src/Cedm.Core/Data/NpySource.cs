using Cedm.IO;

namespace Cedm.Data;

/// <summary>
/// The <c>npy:&lt;images.npy&gt;[,&lt;labels.npy&gt;]</c> source: uint8 images shaped (N,H,W) or (N,H,W,C) with
/// C in 1..4, and optional integer labels shaped (N,) (cli.md "Data sources").
/// Reading the .npy files themselves is delegated to <see cref="NpyReaders"/>, so this file holds only
/// the shape rules.
/// </summary>
public static class NpySource
{
    /// <summary>The .npy readers: <see cref="Cedm.IO.Npy"/> by default; tests substitute stand-ins.</summary>
    public sealed record NpyReaders(
        Func<string, (byte[] Data, int[] Shape)> ReadImages,   // uint8 array, C order, and its shape
        Func<string, long[]> ReadLabels)                       // an int32/int64 (or uint8) (N,) array widened to long
    {
        public static NpyReaders Default { get; } = new(ReadUInt8Images, ReadIntegerLabels);

        private static (byte[] Data, int[] Shape) ReadUInt8Images(string path)
        {
            var a = Npy.Read(path);
            if (a.DType != DType.U8)
                throw new InvalidDataException($"npy:{path}: images are {a.DType}; expected uint8 (convert with images.astype(np.uint8))");
            return (a.As<byte>(), a.Shape);
        }

        private static long[] ReadIntegerLabels(string path)
        {
            var a = Npy.Read(path);
            if (a.DType.IsFloat() || a.DType == DType.Bool || a.Shape.Length != 1)
                throw new InvalidDataException($"npy: labels {path} are {a.DType} with shape ({string.Join(", ", a.Shape)}); expected integer labels shaped (N,)");
            return a.ToInt64();
        }
    }

    public static ImageDataset Load(string imagesPath, string? labelsPath = null, TransformOptions? transform = null, NpyReaders? readers = null)
    {
        readers ??= NpyReaders.Default;
        if (!File.Exists(imagesPath)) throw new FileNotFoundException($"npy:{imagesPath}: no such file", imagesPath);
        if (labelsPath is not null && !File.Exists(labelsPath)) throw new FileNotFoundException($"npy: labels file {labelsPath} does not exist", labelsPath);

        var (data, shape) = readers.ReadImages(imagesPath);
        if (shape.Length is not (3 or 4) || (shape.Length == 4 && shape[3] is < 1 or > 4) || shape.Skip(1).Any(d => d < 1))
            throw new InvalidDataException($"npy:{imagesPath}: images have shape ({string.Join(", ", shape)}); expected uint8 (N,H,W) or (N,H,W,C) with C = 1, 2, 3 or 4");
        int channels = shape.Length == 4 ? shape[3] : 1;

        long[]? labels = null;
        if (labelsPath is not null)
        {
            labels = readers.ReadLabels(labelsPath);
            if (labels.Length != shape[0])
                throw new InvalidDataException($"npy: {labelsPath} has {labels.Length} labels but {imagesPath} has {shape[0]} images");
        }
        var dataset = new ImageDataset($"npy:{Path.GetFileName(imagesPath)}", data, shape[0], shape[1], shape[2], channels, labels);
        return ImageTransforms.Apply(dataset, transform ?? TransformOptions.None);
    }
}
