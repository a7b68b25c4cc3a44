namespace Cedm.Data;

/// <summary>
/// Fashion-MNIST (Xiao et al. 2017) as Debian's <c>dataset-fashion-mnist</c> package installs it:
/// /usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz.
/// 60,000 train and 10,000 test images, 28x28 gray, 10 classes. The folder can be overridden with
/// CEDM_FASHION_MNIST_DIR.
/// </summary>
public static class FashionMnist
{
    public const string DebianDirectory = "/usr/share/datasets/fashion-mnist";

    public static readonly IReadOnlyList<string> ClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    public static string DefaultDirectory =>
        Environment.GetEnvironmentVariable("CEDM_FASHION_MNIST_DIR") is { Length: > 0 } dir ? dir : DebianDirectory;

    /// <summary>Loads one split (only that split's files are read).</summary>
    public static ImageDataset Load(DataSplit split = DataSplit.Train, string? directory = null)
    {
        directory ??= DefaultDirectory;
        string prefix = split == DataSplit.Train ? "train" : "t10k";
        string imagesPath = Path.Combine(directory, $"{prefix}-images-idx3-ubyte.gz");
        string labelsPath = Path.Combine(directory, $"{prefix}-labels-idx1-ubyte.gz");
        foreach (string path in new[] { imagesPath, labelsPath })
            if (!File.Exists(path))
                throw new FileNotFoundException(
                    $"Fashion-MNIST is not installed: {path} is missing. Install Debian's package with " +
                    "'sudo apt-get install dataset-fashion-mnist' (or run tools/install-deps.sh)", path);

        string name = split == DataSplit.Train ? "fashion-mnist:train" : "fashion-mnist:test";
        return LoadIdx(imagesPath, labelsPath, name, ClassNames);
    }

    /// <summary>One split stored as the MNIST IDX pair (images [N, H, W] uint8, labels [N] uint8), gzipped.</summary>
    internal static ImageDataset LoadIdx(string imagesPath, string labelsPath, string name, IReadOnlyList<string> classNames)
    {
        // The two files are independent gzip streams; decode them side by side.
        var images = Task.Run(() => IdxReader.ReadUInt8(imagesPath));
        var (labelBytes, labelShape) = IdxReader.ReadUInt8(labelsPath);
        var (pixels, shape) = images.GetAwaiter().GetResult();
        if (shape.Length != 3) throw new InvalidDataException($"{imagesPath}: expected 3 dimensions (N, 28, 28), found {shape.Length}");
        if (labelShape.Length != 1 || labelShape[0] != shape[0])
            throw new InvalidDataException($"{labelsPath}: expected {shape[0]} labels, found shape ({string.Join(", ", labelShape)})");

        var labels = new long[labelBytes.Length];
        for (int i = 0; i < labels.Length; i++) labels[i] = labelBytes[i];
        return new ImageDataset(name, pixels, shape[0], shape[1], shape[2], 1, labels, classNames);
    }
}
