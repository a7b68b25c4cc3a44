using System.Text.Json;
using Cedm.IO;
using Cedm.Tests.Diffusion;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Cli;

/// <summary>`cedm cluster --method treevae` → `cedm treevae sample|recon` → `cedm train --cond tree:&lt;dir&gt;` → `cedm sample --cluster depth:1`.</summary>
public sealed class TreeVaeCommandTests : CliTest
{
    [Fact]
    public void ClusterDrawConditionAndSampleByDepth()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 20), dir = Path.Combine(Dir, "tree");
        var (code, output, err) = Run("cluster", source, "--method", "treevae", "--k", "3", "--tree-epochs", "80/60/0/20", "--out", dir, "--json");
        code.Should().Be(0, err);
        var summary = JsonDocument.Parse(output).RootElement;
        summary.GetProperty("method").GetString().Should().Be("treevae");
        int leaves = summary.GetProperty("k").GetInt32();
        leaves.Should().BeInRange(2, 3);
        foreach (var f in new[] { "ids.npy", "probs.npy", "clusters.json", "model.safetensors", "treevae.json", "options.json" })
            File.Exists(Path.Combine(dir, f)).Should().BeTrue(f);
        Npy.Read(Path.Combine(dir, "probs.npy")).Shape.Should().Equal(60, leaves);
        var tree = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "treevae.json"))).RootElement;
        tree.GetProperty("leaves").GetArrayLength().Should().Be(leaves);
        var record = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "options.json"))).RootElement;
        record.GetProperty("features").GetString().Should().Be(source, "a data source is recorded as given");

        string samples = Path.Combine(Dir, "s.npy"), grid = Path.Combine(Dir, "s.png");
        (code, _, err) = Run("treevae", "sample", dir, "--n", "3", "--out", samples, "--grid", grid);
        code.Should().Be(0, err);
        Npy.Read(samples).Shape.Should().Equal(3 * leaves, 8, 8, 1);
        File.ReadAllBytes(grid).Take(4).Should().Equal(0x89, (byte)'P', (byte)'N', (byte)'G');
        (code, output, err) = Run("treevae", "tree", dir, source);
        code.Should().Be(0, err);
        output.Should().StartWith("root (60 images: ");
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l.Contains("cluster ")).Should().Be(leaves);
        string drawn = Path.Combine(Dir, "p.npy");
        (code, _, err) = Run("treevae", "sample", dir, "--leaf", "p", "--n", "5", "--out", drawn);
        code.Should().Be(0, err);
        Npy.Read(drawn).Shape.Should().Equal(5, 8, 8, 1);
        Npy.Read(Path.Combine(Dir, "p_clusters.npy")).ToInt64().Should().HaveCount(5).And.OnlyContain(l => l >= 0 && l < leaves);
        (code, output, err) = Run("treevae", "recon", dir, source, "--n", "2", "--out", Path.Combine(Dir, "r.npy"), "--json");
        code.Should().Be(0, err);
        Npy.Read(Path.Combine(Dir, "r.npy")).Shape.Should().Equal(2 * leaves + 2, 8, 8, 1);
        JsonDocument.Parse(output).RootElement.GetProperty("mean_leaf_probability").EnumerateArray().Sum(e => e.GetDouble()).Should().BeApproximately(1, 1e-3);
        Run("treevae", "sample", dir, "--n", "3", "--out", samples).Code.Should().Be(2, "the output exists and --force was not given");

        string run = Path.Combine(Dir, "run");
        (code, _, err) = Run("train", source, "--cond", $"tree:{dir}", "--out", run, "--batch", "4", "--kimg", "0.008");
        code.Should().Be(0, err);
        var map = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "label_map.json"))).RootElement;
        map.GetProperty("mode").GetString().Should().Be("path");
        map.GetProperty("tree").GetProperty("parent").GetArrayLength().Should().Be(tree.GetProperty("parent").GetArrayLength());
        (code, output, err) = Run("sample", run, "--n", "2", "--steps", "2", "--cluster", "depth:1", "--out", Path.Combine(Dir, "d.npy"), "--json");
        code.Should().Be(0, err);
        JsonDocument.Parse(output).RootElement.GetProperty("node_depths").EnumerateArray().Should().OnlyContain(e => e.GetInt32() == 1);

        // Diffuse-TreeVAE: the leaf decode as extra input channels plus the leaf; the sampler is rebuilt from config.json.
        string refined = Path.Combine(Dir, "refined");
        (code, _, err) = Run("train", source, "--cond", $"treevae:{dir}", "--out", refined, "--batch", "4", "--kimg", "0.008");
        code.Should().Be(0, err);
        var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(refined, "config.json"))).RootElement;
        config.GetProperty("network").GetProperty("condition_channels").GetInt32().Should().Be(1);
        config.GetProperty("network").GetProperty("label_dim").GetInt32().Should().Be(leaves);
        config.GetProperty("image_condition").GetProperty("kind").GetString().Should().Be("treevae");
        string all = Path.Combine(Dir, "all.npy");
        (code, output, err) = Run("sample", refined, "--n", "2", "--steps", "2", "--cluster", "all", "--out", all, "--json");
        code.Should().Be(0, err);
        Npy.Read(all).Shape.Should().Equal(2 * leaves, 8, 8, 1);
        JsonDocument.Parse(output).RootElement.GetProperty("label_mode").GetString().Should().Be("treevae");
        Npy.Read(Path.Combine(Dir, "all_clusters.npy")).ToInt64().Should().Equal(Enumerable.Range(0, leaves).SelectMany(l => new long[] { l, l }));
        (code, _, err) = Run("train", source, "--resume", "--out", refined, "--kimg", "0.016");
        code.Should().Be(0, err);
    }

    [Fact]
    public void BadInputsExitTwoNamingTheProblem()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 4);
        var (code, _, err) = Run("cluster", source, "--method", "treevae", "--k", "3", "--tree-epochs", "4/4", "--out", Path.Combine(Dir, "a"));
        code.Should().Be(2);
        err.Should().Contain("--tree-epochs");
        string feats = Path.Combine(Dir, "f.npy");
        Npy.Write(feats, new float[] { 0, 2, 1, 0, 3, 1, 0.5f, 0.5f }, 4, 2);
        (code, _, err) = Run("cluster", feats, "--method", "treevae", "--k", "2", "--likelihood", "bernoulli", "--tree-epochs", "1/1/0/0", "--out", Path.Combine(Dir, "b"));
        code.Should().Be(2);
        err.Should().Contain("[0, 1]");
        string km = Path.Combine(Dir, "km");
        Run("cluster", feats, "--method", "kmeans", "--k", "2", "--out", km).Code.Should().Be(0);
        (code, _, err) = Run("treevae", "sample", km, "--out", Path.Combine(Dir, "x.npy"));
        code.Should().Be(2);
        err.Should().Contain("not a TreeVAE");
        (code, _, err) = Run("cluster", source, "--method", "treevae", "--k", "40", "--out", Path.Combine(Dir, "c"));
        code.Should().Be(2);
        err.Should().Contain("--k").And.Contain("depth 5");
        (code, _, err) = Run("cluster", feats, "--method", "treevae", "--k", "2", "--tree-arch", "cnn", "--tree-epochs", "1/1/0/0", "--out", Path.Combine(Dir, "d"));
        code.Should().Be(2);
        err.Should().Contain("square images").And.Contain("vector variant");
        Run("cluster", "--help").Out.Should().Contain("treevae").And.Contain("--tree-epochs").And.Contain("--tree-arch");
    }

    [Fact]
    public void CnnTreeVaeClustersImagesAndDrawsFromItsLeaves()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 10), dir = Path.Combine(Dir, "cnn");
        var (code, output, err) = Run("cluster", source, "--method", "treevae", "--tree-arch", "cnn", "--k", "2", "--tree-epochs", "2/1/0/1", "--out", dir, "--json");
        code.Should().Be(0, err);
        JsonDocument.Parse(output).RootElement.GetProperty("k").GetInt32().Should().BeInRange(1, 2);
        var options = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "clusters.json"))).RootElement.GetProperty("options");
        options.GetProperty("Architecture").ToString().Should().BeOneOf("1", "Cnn");
        string leaves = Path.Combine(Dir, "leaves.npy");
        (code, _, err) = Run("treevae", "sample", dir, "--n", "3", "--out", leaves);
        code.Should().Be(0, err);
        Npy.Read(leaves).Shape.Should().HaveCount(4).And.Contain(8);
    }
}
