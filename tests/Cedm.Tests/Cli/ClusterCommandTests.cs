using System.Text.Json;
using Cedm.Clustering;
using Cedm.IO;
using Cedm.Tests.Clustering;
using FluentAssertions;

using Cedm.Tests.TestUtilities;

namespace Cedm.Tests.Cli;

public sealed class ClusterCommandTests : CliTest
{
    private string Features(int n = 300, int k = 3, int d = 4)
    {
        var (x, _) = ClusterTestData.Blobs(n: n, k: k, d: d, seed: 6);
        string path = Path.Combine(Dir, "feats.npy");
        Npy.Write(path, x.Data, n, d);
        return path;
    }

    [Theory]
    [InlineData("kmeans", false)]
    [InlineData("gmm", true)]
    [InlineData("agglo", false)]
    public void WritesAssignmentModelAndOptions(string method, bool soft)
    {
        string feats = Features();
        string outDir = Path.Combine(Dir, method);
        var (code, stdout, stderr) = Run("cluster", feats, "--method", method, "--k", "3", "--out", outDir, "--json");
        code.Should().Be(0, stderr);
        using var json = JsonDocument.Parse(stdout);
        json.RootElement.GetProperty("k").GetInt32().Should().Be(3);
        json.RootElement.GetProperty("utilized").GetInt32().Should().Be(3);
        json.RootElement.GetProperty("method").GetString().Should().Be(method);
        var a = ClusterAssignment.Load(outDir);
        a.Count.Should().Be(300);
        (a.Probabilities != null).Should().Be(soft);
        File.Exists(Path.Combine(outDir, "options.json")).Should().BeTrue();
        File.Exists(Path.Combine(outDir, ClusterTree.FileName)).Should().Be(method == "agglo");
        var (ids, _) = ClusterModels.Load(outDir).Predict(Cedm.Features.FeatureFile.ReadMatrix(feats));
        ids.Zip(a.Ids).Count(p => p.First == p.Second).Should().BeGreaterThanOrEqualTo(method == "agglo" ? 285 : 299);

        // A second run into the same folder needs --force.
        var again = Run("cluster", feats, "--method", method, "--k", "3", "--out", outDir);
        again.Code.Should().Be(2);
        again.Err.Should().Contain("--force");
        Run("cluster", feats, "--method", method, "--k", "3", "--out", outDir, "--force", "--seed", "4").Code.Should().Be(0);
    }

    [Fact]
    public void BadKIsExitCode2NamingTheOption()
    {
        string feats = Features(n: 20);
        var big = Run("cluster", feats, "--k", "21", "--out", Path.Combine(Dir, "o"));
        big.Code.Should().Be(2);
        big.Err.Should().StartWith("error: --k: 21").And.Contain("N = 20");
        var zero = Run("cluster", feats, "--k", "0", "--out", Path.Combine(Dir, "o"));
        zero.Code.Should().Be(2);
        zero.Err.Should().StartWith("error: --k: must be at least 1");
        Run("cluster", feats, "--k", "2", "--method", "spectral", "--out", Path.Combine(Dir, "o")).Code.Should().Be(2);
        Run("cluster", feats, "--k", "2", "--n-init", "0", "--out", Path.Combine(Dir, "o")).Err.Should().Contain("--n-init");
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void NonFiniteFeaturesAreExitCode2WithTheirPosition(float bad)
    {
        var x = new float[10 * 3];
        x[7 * 3 + 2] = bad;
        string path = Path.Combine(Dir, "bad.npy");
        Npy.Write(path, x, 10, 3);
        var r = Run("cluster", path, "--k", "2", "--out", Path.Combine(Dir, "o"));
        r.Code.Should().Be(2);
        r.Err.Should().Contain("bad.npy").And.Contain("row 7, column 2");
        r.Err.Trim().Split('\n').Should().HaveCount(1);
    }

    [Fact]
    public void WrongDtypeRankOrEmptyFileAreExitCode2NamingTheFile()
    {
        string ints = Path.Combine(Dir, "ints.npy");
        Npy.Write(ints, new long[] { 1, 2, 3, 4 }, 2, 2);
        var r = Run("cluster", ints, "--k", "1", "--out", Path.Combine(Dir, "o"));
        r.Code.Should().Be(2);
        r.Err.Should().Contain("ints.npy").And.Contain("float32 or float64");

        string vec = Path.Combine(Dir, "vec.npy");
        Npy.Write(vec, new float[] { 1, 2, 3 }, 3);
        r = Run("cluster", vec, "--k", "1", "--out", Path.Combine(Dir, "o"));
        r.Code.Should().Be(2);
        r.Err.Should().Contain("vec.npy").And.Contain("(N, D)");

        string empty = Path.Combine(Dir, "empty.npy");
        File.WriteAllBytes(empty, []);
        r = Run("cluster", empty, "--k", "1", "--out", Path.Combine(Dir, "o"));
        r.Code.Should().Be(2);
        r.Err.Should().Contain("empty.npy").And.Contain("empty file");

        string noRows = Path.Combine(Dir, "norows.npy");
        Npy.Write(noRows, Array.Empty<float>(), 0, 5);
        r = Run("cluster", noRows, "--k", "1", "--out", Path.Combine(Dir, "o"));
        r.Code.Should().Be(2);
        r.Err.Should().Contain("norows.npy");

        r = Run("cluster", Path.Combine(Dir, "missing.npy"), "--k", "1", "--out", Path.Combine(Dir, "o"));
        r.Code.Should().Be(2);
        r.Err.Should().Contain("missing.npy");
    }

    [Fact]
    public void Float64FeaturesAreAccepted()
    {
        var (x, _) = ClusterTestData.Blobs(n: 100, k: 2, d: 3, seed: 2);
        string path = Path.Combine(Dir, "f64.npy");
        Npy.Write(path, x.Data.Select(v => (double)v).ToArray(), 100, 3);
        var r = Run("cluster", path, "--method", "gmm", "--covariance", "diag", "--k", "2", "--out", Path.Combine(Dir, "o64"));
        r.Code.Should().Be(0, r.Err);
        r.Out.Should().Contain("2 utilised");
    }
}
