using System.Text.Json;
using Cedm.Clustering;
using Cedm.IO;
using Cedm.Tests.Diffusion;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Cli;

/// <summary>`cedm train --cond path:&lt;dir&gt;` → `cedm sample --cluster node:|depth:|path:` in-process (docs/hierarchy.md).</summary>
public sealed class PathConditionCommandTests : CliTest
{
    /// <summary>
    /// An agglo-like folder over the 12 patterns: cluster = image mod 3, tree.json merging clusters 0 and 1 first, so
    /// the tree is root → {cluster 2, node → {cluster 0, cluster 1}} (breadth-first nodes: cluster 2 = 1, 0 = 3, 1 = 4).
    /// </summary>
    private string Clusters(bool withTree = true, bool matching = true)
    {
        var ids = Enumerable.Range(0, 12).Select(i => i % 3).ToArray();
        string dir = Path.Combine(Dir, Guid.NewGuid().ToString("N"));
        new ClusterAssignment("agglo", 3, ids, Enumerable.Repeat(1f, 12).ToArray(), null).Save(dir);
        var leafOf = matching ? ids : ids.Select(i => (i + 1) % 3).ToArray();
        if (withTree) new ClusterTree(3, [new TreeMerge(0, 1, 1, 8), new TreeMerge(2, 3, 2, 12)], leafOf).Save(Path.Combine(dir, ClusterTree.FileName));
        return dir;
    }

    [Fact]
    public void TrainOnPathsAndSampleByDepth()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 4), run = Path.Combine(Dir, "run");
        var (code, trained, err) = Run("train", source, "--cond", $"path:{Clusters()}", "--out", run, "--batch", "4", "--kimg", "0.008", "--p-uncond", "0.25", "--json");
        code.Should().Be(0, err);
        JsonDocument.Parse(trained).RootElement.GetProperty("label_dim").GetInt32().Should().Be(5);
        var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json"))).RootElement;
        config.GetProperty("network").GetProperty("label_dim").GetInt32().Should().Be(5, "one embedding per tree node (2K − 1)");
        var map = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "label_map.json"))).RootElement;
        map.GetProperty("mode").GetString().Should().Be("path");
        map.GetProperty("k_used").GetInt32().Should().Be(3);
        map.GetProperty("tree").GetProperty("parent").EnumerateArray().Select(e => e.GetInt32()).Should().Equal(-1, 0, 0, 2, 2);
        map.GetProperty("tree").GetProperty("leaf_of_cluster").EnumerateArray().Select(e => e.GetInt32()).Should().Equal(3, 4, 1);

        string depth = Path.Combine(Dir, "depth.npy");
        (code, var output, err) = Run("sample", run, "--n", "6", "--steps", "2", "--cluster", "depth:1", "--out", depth, "--grid", Path.Combine(Dir, "d.png"), "--json");
        code.Should().Be(0, err);
        Npy.Read(depth).Shape.Should().Equal(12, 8, 8, 1);
        var record = JsonDocument.Parse(output).RootElement;
        record.GetProperty("nodes").EnumerateArray().Select(e => e.GetInt32()).Should().Equal(1, 2);
        record.GetProperty("node_depths").EnumerateArray().Select(e => e.GetInt32()).Should().Equal(1, 1);
        record.GetProperty("label_dim").GetInt32().Should().Be(5);
        var drawn = Npy.Read(Path.Combine(Dir, "depth_clusters.npy")).ToInt64();
        drawn.Take(6).Should().OnlyContain(c => c == 2, "node 1 is cluster 2's leaf");
        drawn.Skip(6).Should().OnlyContain(c => c == 0 || c == 1, "node 2 draws a leaf of its own subtree");

        string path = Path.Combine(Dir, "path.npy");
        (code, output, err) = Run("sample", run, "--n", "4", "--steps", "2", "--cluster", "path:1", "--out", path, "--json");
        code.Should().Be(0, err);
        JsonDocument.Parse(output).RootElement.GetProperty("nodes").EnumerateArray().Select(e => e.GetInt32()).Should().Equal(0, 2, 4);
        var along = Npy.Read(Path.Combine(Dir, "path_clusters.npy")).ToInt64();
        along.Skip(8).Should().OnlyContain(c => c == 1);
        along.Skip(4).Take(4).Should().OnlyContain(c => c == 0 || c == 1);
        var pixels = Npy.Read(path).As<byte>();
        string leaf = Path.Combine(Dir, "leaf.npy");
        Run("sample", run, "--n", "4", "--steps", "2", "--cluster", "1", "--out", leaf).Code.Should().Be(0);
        Npy.Read(leaf).As<byte>().Should().Equal(pixels.Skip(8 * 64), "the leaf row of path:1 is cluster 1 itself");

        string bad = Path.Combine(Dir, "bad.npy");
        Run("sample", run, "--cluster", "node:5", "--out", bad).Err.Should().Contain("nodes 0..4");
        Run("sample", run, "--cluster", "depth:3", "--out", bad).Code.Should().Be(2);
        Run("sample", run, "--cluster", "depth:x", "--out", bad).Code.Should().Be(2);
        Run("sample", run, "--cluster", "path:7", "--out", bad).Code.Should().Be(2);
        File.Exists(bad).Should().BeFalse();
    }

    [Fact]
    public void TruncatedPathsSampleNodesFromTheirPartialRows()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 4), run = Path.Combine(Dir, "run"), plain = Path.Combine(Dir, "plain");
        string[] quick = ["--batch", "4", "--kimg", "0.008"];
        var (code, _, err) = Run(["train", source, "--cond", $"path:{Clusters()}", "--out", run, "--path-truncation", "0.3", .. quick]);
        code.Should().Be(0, err);
        JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json"))).RootElement.GetProperty("training").GetProperty("path_truncation").GetDouble().Should().Be(0.3);

        string partial = Path.Combine(Dir, "partial.npy");
        (code, var output, err) = Run("sample", run, "--n", "3", "--steps", "2", "--cluster", "path:1", "--out", partial, "--json");
        code.Should().Be(0, err);
        JsonDocument.Parse(output).RootElement.GetProperty("node_rows").GetString().Should().Be("partial", "the default of a run trained with truncation");
        var ids = Npy.Read(Path.Combine(Dir, "partial_clusters.npy")).ToInt64();
        ids.Take(6).Should().OnlyContain(c => c == -1, "the root and node 2 condition on their partial rows, not on a cluster");
        ids.Skip(6).Should().OnlyContain(c => c == 1, "the leaf row is cluster 1's own");

        string subtree = Path.Combine(Dir, "subtree.npy");
        (code, output, err) = Run("sample", run, "--n", "3", "--steps", "2", "--cluster", "path:1", "--node-rows", "subtree", "--out", subtree, "--json");
        code.Should().Be(0, err);
        JsonDocument.Parse(output).RootElement.GetProperty("node_rows").GetString().Should().Be("subtree");
        Npy.Read(Path.Combine(Dir, "subtree_clusters.npy")).ToInt64().Take(6).Should().OnlyContain(c => c >= 0);
        Npy.Read(subtree).As<byte>().Skip(6 * 64).Should().Equal(Npy.Read(partial).As<byte>().Skip(6 * 64), "a leaf is sampled alike either way");

        Run(["train", source, "--cond", $"path:{Clusters()}", "--out", plain, .. quick]).Code.Should().Be(0);
        (code, _, err) = Run("sample", plain, "--cluster", "node:2", "--node-rows", "partial", "--out", Path.Combine(Dir, "x.npy"));
        code.Should().Be(2);
        err.Should().Contain("--path-truncation");
        (code, _, err) = Run(["train", source, "--cond", $"clusters:{Clusters()}", "--out", Path.Combine(Dir, "flat"), "--path-truncation", "0.2", .. quick]);
        code.Should().Be(2);
        err.Should().Contain("path-conditioned");
    }

    [Fact]
    public void RefusesFoldersWithoutTheirTreeAndFlatRunsTreeChoices()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 4);
        string[] quick = ["--batch", "4", "--kimg", "0.004"];
        var (code, _, err) = Run(["train", source, "--cond", $"path:{Clusters(withTree: false)}", "--out", Path.Combine(Dir, "a"), .. quick]);
        code.Should().Be(2);
        err.Should().Contain("--cond").And.Contain("tree.json");
        (code, _, err) = Run(["train", source, "--cond", $"path:{Clusters(matching: false)}", "--out", Path.Combine(Dir, "b"), .. quick]);
        code.Should().Be(2);
        err.Should().Contain("does not give ids.npy");

        string flat = Path.Combine(Dir, "flat");
        Run(["train", source, "--cond", $"clusters:{Clusters()}", "--out", flat, .. quick]).Code.Should().Be(0);
        Run("sample", flat, "--cluster", "depth:1", "--out", Path.Combine(Dir, "x.npy")).Err.Should().Contain("path-conditioned run");
        Run("train", "--help").Out.Should().Contain("path:<dir>");
        Run("sample", "--help").Out.Should().Contain("depth:<d>");
    }
}
