using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Cedm.Data;
using FluentAssertions;

namespace Cedm.Tests.Data;

/// <summary>
/// CIFAR-100 binary layout on a tiny tarball made here: train.bin with 4 records and test.bin with 2, record r of
/// file f having coarse label (f * 7 + r) % 20, fine label (f * 41 + r * 13) % 100 and pixel value
/// (f * 29 + r * 5 + c * 60 + y * 2 + x) % 256 at channel c, row y, column x.
/// </summary>
public sealed class Cifar100Tests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cedm-cifar100-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte Coarse(int f, int r) => (byte)((f * 7 + r) % 20);
    private static byte Fine(int f, int r) => (byte)((f * 41 + r * 13) % 100);
    private static byte Pixel(int f, int r, int c, int y, int x) => (byte)((f * 29 + r * 5 + c * 60 + y * 2 + x) % 256);

    private static byte[] BatchFile(int f, int records)
    {
        var bytes = new byte[records * 3074];
        for (int r = 0; r < records; r++)
        {
            bytes[r * 3074] = Coarse(f, r);
            bytes[r * 3074 + 1] = Fine(f, r);
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 32; y++)
                    for (int x = 0; x < 32; x++)
                        bytes[r * 3074 + 2 + c * 1024 + y * 32 + x] = Pixel(f, r, c, y, x);
        }
        return bytes;
    }

    private string WriteTarball()
    {
        string path = Path.Combine(_dir, "cifar-100-binary.tar.gz");
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Ustar);
        void Add(string name, byte[] data) => tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, $"cifar-100-binary/{name}") { DataStream = new MemoryStream(data) });
        Add("coarse_label_names.txt", Encoding.ASCII.GetBytes(string.Join('\n', Enumerable.Range(0, 20).Select(i => $"super{i}")) + "\n"));
        Add("fine_label_names.txt", Encoding.ASCII.GetBytes(string.Join('\n', Enumerable.Range(0, 100).Select(i => $"fine{i}")) + "\n"));
        Add("train.bin", BatchFile(0, 4));
        Add("test.bin", BatchFile(1, 2));
        return path;
    }

    [Fact]
    public void FineLabelsByDefaultWithPixelsInHwcOrder()
    {
        string path = WriteTarball();
        var d = DataSource.Load($"cifar100:{path}");
        (d.Count, d.Height, d.Width, d.Channels).Should().Be((4, 32, 32, 3));
        d.Name.Should().Be("cifar100:train");
        d.Labels.Should().Equal(Enumerable.Range(0, 4).Select(r => (long)Fine(0, r)));
        d.LabelNames.Should().HaveCount(100).And.HaveElementAt(13, "fine13");
        var img = d.Image(3).ToArray();
        foreach (var (c, y, x) in new[] { (0, 0, 0), (1, 5, 7), (2, 31, 30) })
            img[(y * 32 + x) * 3 + c].Should().Be(Pixel(0, 3, c, y, x));
    }

    [Fact]
    public void CoarseTestSplitGivesTheSuperclasses()
    {
        string path = WriteTarball();
        var d = DataSource.Load($"cifar100:{path}:test:coarse");
        d.Name.Should().Be("cifar100:test:coarse");
        d.Count.Should().Be(2);
        d.Labels.Should().Equal(Coarse(1, 0), Coarse(1, 1));
        d.LabelNames.Should().HaveCount(20).And.HaveElementAt(0, "super0");
        DataSource.Parse($"cifar100:{path}:coarse:test").Should().Be(new Cifar100Source(path, DataSplit.Test, true));
    }

    [Fact]
    public void ExtractedFolderReadsTheSame()
    {
        string folder = Path.Combine(_dir, "cifar-100-binary");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "train.bin"), BatchFile(0, 4));
        var d = Cifar100.Load(_dir, DataSplit.Train);
        d.Labels.Should().Equal(Enumerable.Range(0, 4).Select(r => (long)Fine(0, r)));
        d.LabelNames.Should().Equal(Enumerable.Range(0, 100).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), "no names file: numbered names");
    }

    [Fact]
    public void BrokenFilesAreClearErrors()
    {
        string folder = Path.Combine(_dir, "cifar-100-binary");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "train.bin"), BatchFile(0, 2)[..5000]);
        var act = () => Cifar100.Load(_dir);
        act.Should().Throw<InvalidDataException>().WithMessage("*train.bin*5000 bytes*3074-byte records*");
        byte[] bad = BatchFile(0, 1);
        bad[1] = 100;
        File.WriteAllBytes(Path.Combine(folder, "train.bin"), bad);
        act.Should().Throw<InvalidDataException>().WithMessage("*record 0 has fine label 100*");
        var missing = () => Cifar100.Load(Path.Combine(_dir, "nope.tar.gz"));
        missing.Should().Throw<FileNotFoundException>().WithMessage("cifar100:*");
        string truncated = WriteTarball();
        File.WriteAllBytes(truncated, File.ReadAllBytes(truncated)[..200]);
        var broken = () => Cifar100.Load(truncated);
        broken.Should().Throw<InvalidDataException>().WithMessage("cifar100:*not a readable tar*");
    }
}
