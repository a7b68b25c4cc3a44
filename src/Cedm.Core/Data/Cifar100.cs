namespace Cedm.Data;

/// <summary>
/// CIFAR-100, "binary version" (https://www.cs.toronto.edu/~kriz/cifar.html): the tarball cifar-100-binary.tar.gz
/// or its extracted folder cifar-100-binary/ with train.bin (50,000 records), test.bin (10,000),
/// coarse_label_names.txt and fine_label_names.txt. Each record is 1 coarse-label byte (0-19, the 20 superclasses),
/// 1 fine-label byte (0-99), then 3072 pixel bytes laid out as CIFAR-10's (R, G, B planes of 32x32, row-major).
/// The fine labels are the labels by default; <c>coarse</c> takes the superclasses instead (the C-EDM paper's
/// second label set for CIFAR-100). Any whole number of records is accepted.
/// </summary>
public static class Cifar100
{
    public const int Side = 32;
    private const int Plane = Side * Side;
    private const int RecordBytes = 2 + 3 * Plane;
    private const string FolderName = "cifar-100-binary";
    private const string FineNames = "fine_label_names.txt", CoarseNames = "coarse_label_names.txt";

    public static string BatchFile(DataSplit split) => split == DataSplit.Train ? "train.bin" : "test.bin";

    /// <summary>Loads a split from the tarball (.tar.gz, .tgz or .tar) or from the (parent of the) extracted folder.</summary>
    public static ImageDataset Load(string path, DataSplit split = DataSplit.Train, bool coarse = false)
    {
        string batch = BatchFile(split);
        string[] wanted = [batch, FineNames, CoarseNames];
        var files = Directory.Exists(path) ? Cifar10.ReadFolder(path, FolderName, wanted)
            : File.Exists(path) ? Cifar10.ReadTarball(path, wanted, "cifar100")
            : throw new FileNotFoundException($"cifar100: {path} does not exist (expected cifar-100-binary.tar.gz or its extracted folder)", path);

        if (!files.TryGetValue(batch, out var bytes))
            throw new InvalidDataException($"cifar100: {path} has no {FolderName}/{batch} (is it the binary version, cifar-100-binary.tar.gz?)");
        if (bytes.Length == 0 || bytes.Length % RecordBytes != 0)
            throw new InvalidDataException($"cifar100: {batch} in {path} has {bytes.Length} bytes, not a whole number of {RecordBytes}-byte records");

        int count = bytes.Length / RecordBytes;
        int classes = coarse ? 20 : 100;
        var pixels = new byte[(long)count * 3 * Plane];   // [N, 32, 32, 3]
        var labels = new long[count];
        for (int n = 0; n < count; n++)
        {
            int r = n * RecordBytes;
            labels[n] = bytes[r + (coarse ? 0 : 1)];
            if (labels[n] >= classes)
                throw new InvalidDataException($"cifar100: {batch} in {path}: record {n} has {(coarse ? "coarse" : "fine")} label {labels[n]}, expected 0..{classes - 1}");
            var dst = pixels.AsSpan(n * 3 * Plane, 3 * Plane);
            for (int p = 0; p < Plane; p++)
                for (int c = 0; c < 3; c++)
                    dst[p * 3 + c] = bytes[r + 2 + c * Plane + p];
        }

        var names = files.TryGetValue(coarse ? CoarseNames : FineNames, out var text) ? ParseNames(text, classes) : null;
        string datasetName = $"cifar100:{(split == DataSplit.Train ? "train" : "test")}{(coarse ? ":coarse" : "")}";
        return new ImageDataset(datasetName, pixels, count, Side, Side, 3, labels, names ?? Enumerable.Range(0, classes).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
    }

    /// <summary>The names file, one a line; null (numbered names) unless it has exactly one name per class.</summary>
    private static string[]? ParseNames(byte[] text, int classes)
    {
        var names = System.Text.Encoding.ASCII.GetString(text).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        return names.Length == classes ? names : null;
    }
}
