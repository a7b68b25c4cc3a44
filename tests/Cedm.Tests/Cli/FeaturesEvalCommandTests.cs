using System.Text.Json;
using Cedm.Clustering;
using Cedm.IO;
using Cedm.Metrics;
using Cedm.Tensors;
using FluentAssertions;

using Cedm.Tests.TestUtilities;

namespace Cedm.Tests.Cli;

/// <summary>`cedm features`, `cedm fd` and `cedm eval` in-process on small synthetic npy sources.</summary>
public sealed class FeaturesEvalCommandTests : CliTest
{
    private string P(string name) => Path.Combine(Dir, name);

    /// <summary>n random 8x8 grey images whose brightness depends on a 2-valued "class" (bright/dark).</summary>
    private string Images(string name, int n, int seed, int size = 8, int offset = 0, int pad = 0)
    {
        var rng = new Rng(seed);
        var px = new byte[n * size * size];
        for (int i = 0; i < n; i++)
            for (int p = 0; p < size * size; p++)
                px[i * size * size + p] = (byte)Math.Clamp(offset + (i % 2 == 0 ? 60 : 180) + 30 * rng.NextNormal(), 0, 255);
        if (pad > 0)
        {
            // Black border, as training pads Fashion-MNIST 28 -> 32.
            int outer = size + 2 * pad;
            var padded = new byte[n * outer * outer];
            for (int i = 0; i < n; i++)
                for (int y = 0; y < size; y++)
                    for (int x = 0; x < size; x++)
                        padded[(i * outer + y + pad) * outer + x + pad] = px[(i * size + y) * size + x];
            Npy.Write(P(name), padded, n, outer, outer);
        }
        else Npy.Write(P(name), px, n, size, size);
        return P(name);
    }

    private string Features(string name, int n, int d, int seed, float shift = 0, bool asDouble = false)
    {
        var x = new float[n * d];
        new Rng(seed).FillNormal(x, shift, 1f);
        if (asDouble) Npy.Write(P(name), x.Select(v => (double)v).ToArray(), n, d);
        else Npy.Write(P(name), x, n, d);
        return P(name);
    }

    [Fact]
    public void FdMatchesTheLibraryAndReadsFloat64()
    {
        string a = Features("a.npy", 200, 5, 1), b = Features("b.npy", 150, 5, 2, shift: 0.5f, asDouble: true);
        var (code, output, err) = Run("fd", a, b, "--json");
        code.Should().Be(0, err);
        double fd = JsonDocument.Parse(output).RootElement.GetProperty("fd").GetDouble();
        var xa = Npy.Read(a).ToFloat32();
        var xb = Npy.Read(b).ToFloat32();
        fd.Should().BeApproximately(FrechetDistance.FromFeatures(xa, 200, xb, 150, 5), 1e-9);
        fd.Should().BeGreaterThan(1.0, "a mean shift of 0.5 in 5 dimensions adds 1.25");
    }

    [Fact]
    public void FdRejectsBadInputsWithExit2()
    {
        string a = Features("a.npy", 20, 5, 1), c = Features("c.npy", 20, 6, 3);
        var (code, _, err) = Run("fd", a, c);
        code.Should().Be(2);
        err.Should().StartWith("error:").And.Contain("D = 5").And.Contain("D = 6");
        Run("fd", a, P("missing.npy")).Code.Should().Be(2);
        Npy.Write(P("ints.npy"), new long[] { 1, 2, 3, 4 }, 2, 2);
        Run("fd", a, P("ints.npy")).Err.Should().Contain("float32 or float64");
    }

    [Fact]
    public void FeaturesPcaSavesAModelThatReproducesTheProjection()
    {
        string imgs = Images("imgs.npy", 120, 1);
        var (code, _, err) = Run("features", $"npy:{imgs}", "--extractor", "pca:6", "--out", P("f.npy"));
        code.Should().Be(0, err);
        File.Exists(P("f.pca.safetensors")).Should().BeTrue();
        var info = JsonDocument.Parse(File.ReadAllText(P("f.json"))).RootElement;
        (info.GetProperty("n").GetInt32(), info.GetProperty("d").GetInt32()).Should().Be((120, 6));
        info.GetProperty("resolved").GetString().Should().StartWith("pca:").And.EndWith("f.pca.safetensors");

        (code, _, err) = Run("features", $"npy:{imgs}", "--extractor", "pca", "--model", P("f.pca.safetensors"), "--out", P("g.npy"));
        code.Should().Be(0, err);
        Npy.Read(P("g.npy")).ToFloat32().Should().Equal(Npy.Read(P("f.npy")).ToFloat32());

        Run("features", $"npy:{imgs}", "--extractor", "pca:6", "--out", P("f.npy")).Code.Should().Be(2, "never overwrite without --force");
        Run("features", $"npy:{imgs}", "--extractor", "pixels", "--out", P("f.npy"), "--force").Code.Should().Be(0);
        Npy.Read(P("f.npy")).Shape.Should().Equal(120, 64);
        var (badCode, _, badErr) = Run("features", $"npy:{imgs}", "--extractor", "sift", "--out", P("h.npy"));
        badCode.Should().Be(2);
        badErr.Should().Contain("unknown extractor");
    }

    [Fact]
    public void EvalWritesTheMetricsAndUsesTheCache()
    {
        string real = Images("real.npy", 300, 1), same = Images("same.npy", 200, 2), off = Images("off.npy", 200, 3, offset: 50);
        string cache = P("cache");
        string? saved = Environment.GetEnvironmentVariable("CEDM_CACHE");
        Environment.SetEnvironmentVariable("CEDM_CACHE", cache);
        try
        {
            string[] common = ["--evaluator", "pca:8", "--kid-subsets", "10", "--kid-subset-size", "100", "--json"];
            var (code, output, err) = Run(["eval", $"npy:{real}", same, "--out", P("m1.json"), .. common]);
            code.Should().Be(0, err);
            var m1 = JsonDocument.Parse(output).RootElement;
            m1.GetProperty("cache").GetString().Should().Be("miss");
            foreach (var key in new[] { "fd", "kid", "kid_std", "precision", "recall", "density", "coverage" })
                m1.TryGetProperty(key, out _).Should().BeTrue(key);

            (code, output, err) = Run(["eval", $"npy:{real}", off, "--out", P("m2.json"), .. common]);
            code.Should().Be(0, err);
            var m2 = JsonDocument.Parse(output).RootElement;
            m2.GetProperty("cache").GetString().Should().Be("hit");
            m2.GetProperty("fd").GetDouble().Should().BeGreaterThan(m1.GetProperty("fd").GetDouble(), "brighter samples are further away");
            m2.GetProperty("kid").GetDouble().Should().BeGreaterThan(m1.GetProperty("kid").GetDouble());
            File.Exists(P("m2.json")).Should().BeTrue();
            Run(["eval", $"npy:{real}", off, "--out", P("m2.json"), .. common]).Code.Should().Be(2, "no overwrite without --force");
        }
        finally { Environment.SetEnvironmentVariable("CEDM_CACHE", saved); }
    }

    [Fact]
    public void EvalCacheOfANamedSourceMissesWhenItsFolderChanges()
    {
        // `mnist` names no file; its statistics must still not outlive a change of the digits behind the name (a
        // 10k package replaced by the full set).
        string mnist = P("mnist-dir");
        Directory.CreateDirectory(mnist);
        void WriteDigits(int n, int seed)
        {
            var px = Npy.Read(Images($"d{seed}.npy", n, seed, size: 28)).As<byte>();
            byte[] Header(params int[] shape) => [0, 0, 8, (byte)shape.Length, .. shape.SelectMany(d => new[] { (byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d })];
            File.WriteAllBytes(Path.Combine(mnist, "train-images-idx3-ubyte"), [.. Header(n, 28, 28), .. px]);
            File.WriteAllBytes(Path.Combine(mnist, "train-labels-idx1-ubyte"), [.. Header(n), .. Enumerable.Range(0, n).Select(i => (byte)(i % 10))]);
        }
        WriteDigits(120, 1);
        string samples = Images("s28.npy", 60, 2, size: 28);
        string? savedCache = Environment.GetEnvironmentVariable("CEDM_CACHE"), savedMnist = Environment.GetEnvironmentVariable("CEDM_MNIST_DIR");
        Environment.SetEnvironmentVariable("CEDM_CACHE", P("cache-named"));
        Environment.SetEnvironmentVariable("CEDM_MNIST_DIR", mnist);
        try
        {
            string[] common = ["eval", "mnist", samples, "--evaluator", "pca:8", "--kid-subsets", "5", "--kid-subset-size", "50", "--json", "--force"];
            JsonElement Eval() { var (code, output, err) = Run([.. common, "--out", P("mn.json")]); code.Should().Be(0, err); return JsonDocument.Parse(output).RootElement; }
            var first = Eval();
            first.GetProperty("cache").GetString().Should().Be("miss");
            Eval().GetProperty("cache").GetString().Should().Be("hit");
            WriteDigits(150, 3);
            var changed = Eval();
            changed.GetProperty("cache").GetString().Should().Be("miss", "the folder behind `mnist` changed");
            changed.GetProperty("fd").GetDouble().Should().NotBe(first.GetProperty("fd").GetDouble());
        }
        finally
        {
            Environment.SetEnvironmentVariable("CEDM_CACHE", savedCache);
            Environment.SetEnvironmentVariable("CEDM_MNIST_DIR", savedMnist);
        }
    }

    [Fact]
    public void EvalPadsRealImagesAndGivesPerClusterFd()
    {
        string real = Images("real.npy", 200, 1, size: 6);
        string samples = Images("s.npy", 100, 2, size: 6, pad: 1);   // 6x6 + pad 1 = 8x8: the real images get the same pad
        // Real clustering: even = dark (0), odd = bright (1); sample ids likewise.
        var ids = Enumerable.Range(0, 200).Select(i => i % 2).ToArray();
        new ClusterAssignment("test", 2, ids, Enumerable.Repeat(1f, 200).ToArray()).Save(P("clusters"));
        Npy.Write(P("sc.npy"), Enumerable.Range(0, 100).Select(i => (long)(i % 2)).ToArray(), 100);
        var (code, output, err) = Run("eval", $"npy:{real}", samples, "--out", P("m.json"), "--evaluator", "pixels", "--no-cache",
            "--kid-subsets", "5", "--kid-subset-size", "50", "--clusters", P("clusters"), "--sample-clusters", P("sc.npy"), "--json");
        code.Should().Be(0, err);
        var m = JsonDocument.Parse(output).RootElement;
        var per = m.GetProperty("per_cluster_fd");
        per.GetProperty("0").GetProperty("n_real").GetInt32().Should().Be(100);
        per.GetProperty("1").GetProperty("n_samples").GetInt32().Should().Be(50);
        m.GetProperty("per_cluster_fd_mean").GetDouble().Should().BeGreaterThan(0);
        // Swapping the sample ids makes every per-cluster comparison dark-vs-bright: much larger FD.
        Npy.Write(P("sc.npy"), Enumerable.Range(0, 100).Select(i => (long)(1 - i % 2)).ToArray(), 100);
        var (code2, output2, _) = Run("eval", $"npy:{real}", samples, "--out", P("m2.json"), "--evaluator", "pixels", "--no-cache",
            "--kid-subsets", "5", "--kid-subset-size", "50", "--clusters", P("clusters"), "--sample-clusters", P("sc.npy"), "--json");
        code2.Should().Be(0);
        JsonDocument.Parse(output2).RootElement.GetProperty("per_cluster_fd_mean").GetDouble()
            .Should().BeGreaterThan(2 * m.GetProperty("per_cluster_fd_mean").GetDouble());
    }

    [Fact]
    public void EvalPlacesSamplesWithTheClusterModel()
    {
        string real = Images("real.npy", 200, 1);
        string samples = Images("s.npy", 100, 2);
        Run("features", $"npy:{real}", "--extractor", "pca:4", "--out", P("f.npy")).Code.Should().Be(0);
        var (code, _, err) = Run("cluster", P("f.npy"), "--method", "kmeans", "--k", "2", "--out", P("km"));
        code.Should().Be(0, err);
        var realIds = Npy.Read(P("km/ids.npy")).ToInt64();
        // Condition each sample on the cluster of the real image with the same parity (bright/dark).
        Npy.Write(P("sc.npy"), Enumerable.Range(0, 100).Select(i => realIds[i % 2]).ToArray(), 100);
        (code, var output, err) = Run("eval", $"npy:{real}", samples, "--out", P("m.json"), "--evaluator", "pixels", "--no-cache",
            "--kid-subsets", "5", "--kid-subset-size", "50", "--clusters", P("km"), "--sample-clusters", P("sc.npy"), "--json");
        code.Should().Be(0, err);
        var m = JsonDocument.Parse(output).RootElement;
        m.GetProperty("cluster_features").GetString().Should().EndWith("f.pca.safetensors", "found through options.json and f.json");
        m.GetProperty("cluster_distribution").EnumerateArray().Sum(e => e.GetInt32()).Should().Be(100);
        m.GetProperty("cluster_agreement").GetDouble().Should().BeGreaterThan(0.9, "bright/dark samples land in their parity's cluster");
        m.GetProperty("cluster_tv").GetDouble().Should().BeLessThan(0.1);
    }

    [Fact]
    public void EvalUsageErrors()
    {
        string real = Images("real.npy", 50, 1);
        Npy.Write(P("s.npy"), new byte[20 * 7 * 9], 20, 7, 9);
        string samples = P("s.npy");
        var (code, _, err) = Run("eval", $"npy:{real}", samples, "--out", P("m.json"), "--evaluator", "pixels", "--no-cache");
        code.Should().Be(2, "non-square samples that are no padding of the real size cannot be matched");
        err.Should().Contain("8x8").And.Contain("7x9");
        Run("eval", $"npy:{real}", samples, "--out", P("m.txt")).Code.Should().Be(2);
        Run("eval", $"npy:{real}", samples, "--out", P("m.json"), "--sample-clusters", P("x.npy")).Err.Should().Contain("--clusters");
    }
}
