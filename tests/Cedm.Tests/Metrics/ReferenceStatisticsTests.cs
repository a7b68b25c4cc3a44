using System.Globalization;
using System.IO.Compression;
using Cedm.IO;
using Cedm.Metrics;
using FluentAssertions;

namespace Cedm.Tests.Metrics;

/// <summary>
/// .npz statistics in pytorch-fid's layout, written by numpy (tools/make_npz_fixtures.py, Fixtures/npz/): read back,
/// they equal our statistics of the same features and give the same FD as ours and as pytorch-fid's formula (fd.txt).
/// </summary>
public sealed class ReferenceStatisticsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cedm-npz-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "npz", name);

    private static FeatureStatistics StatsOf(string npy)
    {
        var x = Npy.Read(Fixture(npy));
        var s = new FeatureStatistics(x.Shape[1]);
        s.Add(x.ToFloat64(), x.Shape[0]);
        return s;
    }

    [Theory]
    [InlineData("a_stats.npz")]
    [InlineData("a_stats_compressed.npz")]
    public void NumpyStatisticsGiveTheSameFdAsOursOfTheSameFeatures(string file)
    {
        var given = ReferenceStatistics.Load(Fixture(file));
        var a = StatsOf("a.npy");
        var b = StatsOf("b.npy");
        given.Dimension.Should().Be(6);
        given.Mu.Zip(a.Mean()).Should().OnlyContain(t => Math.Abs(t.First - t.Second) < 1e-12);
        given.Sigma.Zip(a.Covariance()).Should().OnlyContain(t => Math.Abs(t.First - t.Second) < 1e-12, "numpy's np.cov is the N-1 covariance, as ours");

        double fromNpz = FrechetDistance.FromStatistics(given.Mu, given.Sigma, b.Mean(), b.Covariance());
        double ours = FrechetDistance.FromStatistics(a.Mean(), a.Covariance(), b.Mean(), b.Covariance());
        double pytorchFid = double.Parse(File.ReadAllText(Fixture("fd.txt")).Trim(), CultureInfo.InvariantCulture);
        Math.Abs(fromNpz - ours).Should().BeLessThan(1e-6 * ours);
        Math.Abs(fromNpz - pytorchFid).Should().BeLessThan(1e-6 * pytorchFid);
    }

    [Fact]
    public void SavedStatisticsAreStoredFloat64NpyEntriesAndReadBack()
    {
        var a = StatsOf("a.npy");
        string path = Path.Combine(_dir, "ref.npz");
        new ReferenceStatistics(a.Mean(), a.Covariance()).Save(path);
        using (var zip = ZipFile.OpenRead(path))
        {
            zip.Entries.Select(e => e.FullName).Should().Equal("mu.npy", "sigma.npy");
            zip.Entries.Should().OnlyContain(e => e.CompressedLength == e.Length, "stored, as np.savez writes");
        }
        var arrays = Npz.Read(path);
        arrays["mu"].DType.Should().Be(DType.F64);
        arrays["sigma"].Shape.Should().Equal(6, 6);
        var back = ReferenceStatistics.Load(path);
        back.Mu.Should().Equal(a.Mean());
        back.Sigma.Should().Equal(a.Covariance());
        // Byte-identical to numpy's np.savez entries: the .npy inside equals the fixture's.
        var numpyMu = Npz.Read(Fixture("a_stats.npz"))["mu"].ToFloat64();
        back.Mu.Zip(numpyMu).Should().OnlyContain(t => Math.Abs(t.First - t.Second) < 1e-12);
    }

    [Fact]
    public void WrongLayoutsAreFormatErrorsNamingTheFile()
    {
        var noSigma = () => ReferenceStatistics.Load(Fixture("no_sigma.npz"));
        noSigma.Should().Throw<InvalidDataException>().WithMessage($"{Fixture("no_sigma.npz")}: expected arrays 'mu' and 'sigma'*found mu*");
        string notZip = Path.Combine(_dir, "x.npz");
        File.WriteAllBytes(notZip, [1, 2, 3, 4]);
        var broken = () => ReferenceStatistics.Load(notZip);
        broken.Should().Throw<InvalidDataException>().WithMessage($"{notZip}: *");
        string badShape = Path.Combine(_dir, "bad.npz");
        Npz.Write(badShape, [("mu", new NpyArray(DType.F64, [3], new double[3])), ("sigma", new NpyArray(DType.F64, [3, 2], new double[6]))]);
        var shape = () => ReferenceStatistics.Load(badShape);
        shape.Should().Throw<InvalidDataException>().WithMessage("*sigma must be shaped (3, 3)*found (3, 2)*");
    }
}
