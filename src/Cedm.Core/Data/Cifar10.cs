using System.Formats.Tar;
using System.IO.Compression;

namespace Cedm.Data;

/// <summary>
/// CIFAR-10, "binary version" (https://www.cs.toronto.edu/~kriz/cifar.html): the tarball
/// cifar-10-binary.tar.gz or its extracted folder cifar-10-batches-bin/ with data_batch_1.bin ... data_batch_5.bin
/// (train, read in that order), test_batch.bin and batches.meta.txt (class names, one a line). Each record is
/// 1 label byte and 3072 pixel bytes: the 1024 red, then 1024 green, then 1024 blue values of a 32x32 image,
/// row-major. Files hold 10,000 records officially; any whole number of records is accepted.
/// </summary>
public static class Cifar10
{
    public const int Side = 32;
    private const int Plane = Side * Side;
    private const int RecordBytes = 1 + 3 * Plane;
    private const string FolderName = "cifar-10-batches-bin";
    private const string MetaFile = "batches.meta.txt";

    public static readonly IReadOnlyList<string> DefaultClassNames =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>The batch files of a split, in the official order.</summary>
    public static IReadOnlyList<string> BatchFiles(DataSplit split) => split == DataSplit.Train
        ? ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"]
        : ["test_batch.bin"];

    /// <summary>Loads a split from the tarball (.tar.gz, .tgz or .tar) or from the (parent of the) extracted folder.</summary>
    public static ImageDataset Load(string path, DataSplit split = DataSplit.Train)
    {
        var wanted = BatchFiles(split);
        var files = Directory.Exists(path) ? ReadFolder(path, wanted)
            : File.Exists(path) ? ReadTarball(path, wanted)
            : throw new FileNotFoundException($"cifar10: {path} does not exist (expected cifar-10-binary.tar.gz or its extracted folder)", path);

        var parts = new List<byte[]>();
        foreach (string name in wanted)
        {
            if (!files.TryGetValue(name, out var bytes))
                throw new InvalidDataException($"cifar10: {path} has no {FolderName}/{name} (is it the binary version, cifar-10-binary.tar.gz?)");
            if (bytes.Length == 0 || bytes.Length % RecordBytes != 0)
                throw new InvalidDataException($"cifar10: {name} in {path} has {bytes.Length} bytes, not a whole number of {RecordBytes}-byte records");
            parts.Add(bytes);
        }

        int count = parts.Sum(p => p.Length / RecordBytes);
        var pixels = new byte[(long)count * 3 * Plane];   // [N, 32, 32, 3]
        var labels = new long[count];
        int n = 0;
        foreach (byte[] part in parts)
            for (int r = 0; r < part.Length; r += RecordBytes, n++)
            {
                labels[n] = part[r];
                // Record: [label, R plane, G plane, B plane] (CHW) -> our HWC layout.
                var dst = pixels.AsSpan(n * 3 * Plane, 3 * Plane);
                for (int p = 0; p < Plane; p++)
                    for (int c = 0; c < 3; c++)
                        dst[p * 3 + c] = part[r + 1 + c * Plane + p];
            }

        var names = files.TryGetValue(MetaFile, out var meta) ? ParseClassNames(meta) : DefaultClassNames;
        string datasetName = $"cifar10:{(split == DataSplit.Train ? "train" : "test")}";
        return new ImageDataset(datasetName, pixels, count, Side, Side, 3, labels, names);
    }

    private static IReadOnlyList<string> ParseClassNames(byte[] meta)
    {
        var names = System.Text.Encoding.ASCII.GetString(meta).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        return names.Length > 0 ? names : DefaultClassNames;
    }

    private static Dictionary<string, byte[]> ReadFolder(string path, IReadOnlyList<string> wanted) => ReadFolder(path, FolderName, [.. wanted, MetaFile]);

    /// <summary>The <paramref name="wanted"/> files of <paramref name="path"/>/<paramref name="folderName"/> (or of <paramref name="path"/> itself) that exist.</summary>
    internal static Dictionary<string, byte[]> ReadFolder(string path, string folderName, IReadOnlyList<string> wanted)
    {
        string dir = Directory.Exists(Path.Combine(path, folderName)) ? Path.Combine(path, folderName) : path;
        var files = new Dictionary<string, byte[]>();
        foreach (string name in wanted)
            if (File.Exists(Path.Combine(dir, name))) files[name] = File.ReadAllBytes(Path.Combine(dir, name));
        return files;
    }

    /// <summary>Streams through the tarball once and keeps only the wanted batch files (and the class names).</summary>
    private static Dictionary<string, byte[]> ReadTarball(string path, IReadOnlyList<string> wanted) => ReadTarball(path, [.. wanted, MetaFile], "cifar10");

    /// <summary>Streams through a .tar(.gz) once and keeps the regular files whose names are in <paramref name="wanted"/>; errors start with <paramref name="kind"/>.</summary>
    internal static Dictionary<string, byte[]> ReadTarball(string path, IReadOnlyList<string> wanted, string kind)
    {
        var files = new Dictionary<string, byte[]>();
        try
        {
            using var file = File.OpenRead(path);
            bool gzip = file.ReadByte() == 0x1F && file.ReadByte() == 0x8B; // gzip magic (RFC 1952)
            file.Position = 0;
            using Stream stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
            using var tar = new TarReader(stream);
            while (tar.GetNextEntry() is { } entry)
            {
                string name = Path.GetFileName(entry.Name);
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null) continue;
                if (!wanted.Contains(name)) continue;
                if (entry.Length > int.MaxValue) throw new InvalidDataException($"{kind}: {entry.Name} in {path} is too large");
                var bytes = new byte[entry.Length];
                entry.DataStream.ReadExactly(bytes);
                files[name] = bytes;
            }
            // The tar end marker comes before the gzip trailer: read the compressed stream to its end so the trailer's
            // CRC-32 and length are checked (a corrupt .tar.gz must not load as slightly different pixels).
            if (gzip) stream.CopyTo(Stream.Null);
        }
        catch (Exception e) when (e is EndOfStreamException or FormatException or InvalidDataException && !e.Message.StartsWith(kind + ":", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{kind}: {path} is not a readable tar or tar.gz file ({e.Message})", e);
        }
        return files;
    }
}
