using System.Formats.Tar;
using System.IO.Compression;
using Cedm.Data;
using FluentAssertions;

namespace Cedm.Tests.Data;

/// <summary>
/// CIFAR-10 binary layout on a tiny tarball made here: 3 records per batch file instead of 10,000, where
/// record r of file f has label (f * 3 + r) % 10 and pixel value (f * 31 + r * 7 + c * 50 + y + x) % 256 at
/// channel c, row y, column x, so order, labels and the CHW -> HWC mapping are all checked.
/// </summary>
public sealed class Cifar10Tests : IDisposable
{
    private const int Records = 3;
    private static readonly string[] Files = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"];
    private readonly string _dir = Directory.CreateTempSubdirectory("cedm-cifar-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte Pixel(int file, int record, int c, int y, int x) => (byte)((file * 31 + record * 7 + c * 50 + y + x) % 256);

    private static byte[] BatchFile(int file)
    {
        var bytes = new byte[Records * 3073];
        for (int r = 0; r < Records; r++)
        {
            bytes[r * 3073] = (byte)((file * Records + r) % 10);
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 32; y++)
                    for (int x = 0; x < 32; x++)
                        bytes[r * 3073 + 1 + c * 1024 + y * 32 + x] = Pixel(file, r, c, y, x);
        }
        return bytes;
    }

    /// <summary>Writes cifar-10-binary.tar.gz as the official one is laid out (files in a shuffled order, to show we sort them).</summary>
    private string MakeTarball()
    {
        string path = Path.Combine(_dir, "cifar-10-binary.tar.gz");
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "cifar-10-batches-bin/"));
        AddFile(tar, "batches.meta.txt", "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n"u8.ToArray());
        foreach (int f in new[] { 5, 2, 0, 4, 1, 3 }) AddFile(tar, Files[f], BatchFile(f));
        AddFile(tar, "readme.html", "<html></html>"u8.ToArray());
        return path;
    }

    private static void AddFile(TarWriter tar, string name, byte[] data)
        => tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "cifar-10-batches-bin/" + name) { DataStream = new MemoryStream(data) });

    private string MakeFolder()
    {
        string dir = Path.Combine(_dir, "extracted", "cifar-10-batches-bin");
        Directory.CreateDirectory(dir);
        for (int f = 0; f < Files.Length; f++) File.WriteAllBytes(Path.Combine(dir, Files[f]), BatchFile(f));
        return Path.GetDirectoryName(dir)!;
    }

    private static void ShouldBeTheSplit(ImageDataset d, int firstFile, int files)
    {
        (d.Count, d.Height, d.Width, d.Channels).Should().Be((files * Records, 32, 32, 3));
        d.Labels.Should().Equal(Enumerable.Range(firstFile * Records, files * Records).Select(i => (long)(i % 10)));
        for (int n = 0; n < d.Count; n++)
        {
            int f = firstFile + n / Records, r = n % Records;
            var image = d.Image(n);
            foreach (var (c, y, x) in new[] { (0, 0, 0), (1, 0, 0), (2, 0, 0), (0, 5, 17), (2, 31, 30), (1, 31, 31) })
                image[(y * 32 + x) * 3 + c].Should().Be(Pixel(f, r, c, y, x), $"image {n} channel {c} at ({y},{x})");
        }
    }

    [Fact]
    public void ReadsTrainSplitFromTarballInOfficialOrder()
    {
        var d = Cifar10.Load(MakeTarball(), DataSplit.Train);
        ShouldBeTheSplit(d, firstFile: 0, files: 5);
        d.LabelNames.Should().Equal(Cifar10.DefaultClassNames);
    }

    [Fact]
    public void ReadsTestSplitFromTarball() => ShouldBeTheSplit(Cifar10.Load(MakeTarball(), DataSplit.Test), firstFile: 5, files: 1);

    [Fact]
    public void ReadsExtractedFolderOrItsParent()
    {
        string parent = MakeFolder();
        ShouldBeTheSplit(Cifar10.Load(parent, DataSplit.Train), 0, 5);
        ShouldBeTheSplit(Cifar10.Load(Path.Combine(parent, "cifar-10-batches-bin"), DataSplit.Test), 5, 1);
    }

    [Fact]
    public void SourceStringSelectsTheSplit()
    {
        string tarball = MakeTarball();
        DataSource.Load($"cifar10:{tarball}:test").Count.Should().Be(Records);
        DataSource.Load($"cifar10:{tarball}").Count.Should().Be(5 * Records);
    }

    [Fact]
    public void MissingBatchFileIsNamed()
    {
        string parent = MakeFolder();
        File.Delete(Path.Combine(parent, "cifar-10-batches-bin", "data_batch_3.bin"));
        var act = () => Cifar10.Load(parent);
        act.Should().Throw<InvalidDataException>().WithMessage("*data_batch_3.bin*");
    }

    [Fact]
    public void PartialRecordIsRejected()
    {
        string parent = MakeFolder();
        File.WriteAllBytes(Path.Combine(parent, "cifar-10-batches-bin", "test_batch.bin"), new byte[3073 + 5]);
        var act = () => Cifar10.Load(parent, DataSplit.Test);
        act.Should().Throw<InvalidDataException>().WithMessage("*not a whole number of 3073-byte records*");
    }

    [Fact]
    public void NotATarballIsAClearError()
    {
        string path = Path.Combine(_dir, "junk.tar.gz");
        File.WriteAllBytes(path, [0x1F, 0x8B, 8, 0, 1, 2, 3]);
        var act = () => Cifar10.Load(path);
        act.Should().Throw<InvalidDataException>().WithMessage("cifar10:*");
    }

    [Fact]
    public void ACorruptGzipTrailerIsRejectedEvenAfterTheTarEndMarker()
    {
        string path = MakeTarball();
        Cifar10.Load(path, DataSplit.Test).Count.Should().Be(Records, "the intact tarball loads");
        var bytes = File.ReadAllBytes(path);
        bytes[^6] ^= 0xFF; // a byte of the gzip trailer's CRC-32 (RFC 1952: CRC32 then ISIZE, 4 bytes each, at the very end)
        File.WriteAllBytes(path, bytes);
        var act = () => Cifar10.Load(path, DataSplit.Test);
        act.Should().Throw<InvalidDataException>().WithMessage("cifar10:*");
    }
}
