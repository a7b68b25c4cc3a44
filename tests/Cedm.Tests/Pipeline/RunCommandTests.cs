using System.Text.Json.Nodes;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Pipeline;

/// <summary>
/// `cedm run --quick` end to end on the real Fashion-MNIST test split: every step's file in the contract's format,
/// a report that opens in headless Chromium with every image loaded and no console errors, and a re-run that
/// recomputes nothing. The slowest test of the suite (about a minute or two), by design: it is the executable spec.
/// </summary>
public sealed class RunCommandTests : CliTest
{
    [Fact]
    public async Task QuickRunProducesEveryFileAndAReportThatOpensInChromiumAndResumesWithoutRecomputing()
    {
        string run = Path.Combine(Dir, "run");
        var (code, output, err) = Run("run", "--quick", "--minutes", "0.3", "--max-k", "16", "--eval-samples", "64", "--out", run);
        code.Should().Be(0, err);
        output.Should().Contain("report.html");
        foreach (var f in new[] { "features/feats.npy", "bound/bound.json", "clusters/ids.npy", "clusters/clusters.json", "train/config.json",
                     "train/log.jsonl", "samples/per_cluster.npy", "samples/samples.npy", "samples/samples_clusters.npy", "eval/metrics.json", "report.html" })
            File.Exists(Path.Combine(run, f)).Should().BeTrue(f);
        var bound = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "bound/bound.json")))!;
        var clusters = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "clusters/clusters.json")))!;
        // The conditioning-K rule (BoundResult.ConditioningK): 0.3 minutes of training is ~2 kimg, one cluster's worth
        // of the 2 000 images per cluster, so the floor of two clusters applies whenever K_UB allows it.
        int kub = bound["k_ub"]!.GetValue<int>();
        kub.Should().BeInRange(1, 16, "--max-k 16 caps the search");
        clusters["k"]!.GetValue<int>().Should().Be(Math.Min(kub, 2));
        JsonNode.Parse(File.ReadAllText(Path.Combine(run, "eval/metrics.json")))!["fd"]!.GetValue<double>().Should().BeGreaterThan(0);

        var stamps = Directory.GetFiles(run, "*", SearchOption.AllDirectories).Where(f => !f.Contains("/steps/") && !f.Contains("/logs/") && !Path.GetFileName(f).StartsWith(Cedm.IO.FolderLock.FileName, StringComparison.Ordinal))
            .ToDictionary(f => f, File.GetLastWriteTimeUtc);
        var again = Run("run", "--out", run);
        again.Code.Should().Be(0, again.Err);
        again.Err.Split('\n').Count(l => l.Contains("already done, skipped")).Should().Be(8);
        foreach (var (file, stamp) in stamps) File.GetLastWriteTimeUtc(file).Should().Be(stamp, $"{file} must not be rewritten by a resumed run");

        if (HeadlessChromium.Executable == null) return; // the Chromium check is covered by ChromiumFact tests' skip message
        var page = await HeadlessChromium.OpenAsync(Path.Combine(run, "report.html"));
        page.Images.Should().BeGreaterThan(4);
        page.BrokenImages.Should().Be(0);
        page.Svgs.Should().BeGreaterThanOrEqualTo(2, "the utilisation curve and the loss curve");
        page.ConsoleErrors.Should().BeEmpty();
    }

    /// <summary>`--cond tree`: the network is trained on the clustering tree's paths and the report shows samples by depth.</summary>
    [Fact]
    public void TreeConditionedRunTrainsOnPathsAndReportsSamplesByDepth()
    {
        string source = Cedm.Tests.Diffusion.TrainingTestData.WritePatternsSource(Dir, 12), run = Path.Combine(Dir, "tree");
        var (code, _, err) = Run("run", source, "--method", "agglo", "--cond", "tree", "--k", "3", "--features", "pca:4", "--minutes", "0.03",
            "--eval-samples", "8", "--out", run);
        code.Should().Be(0, err);
        JsonNode.Parse(File.ReadAllText(Path.Combine(run, "train/config.json")))!["cond"]!.GetValue<string>().Should().StartWith("tree:");
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "samples/by_depth.json")))!;
        long deepest = Cedm.Pipeline.MainJobPlan.DeepestCluster(Path.Combine(run, "clusters"));
        record["cluster"]!.GetValue<string>().Should().Be($"path:{deepest}");
        var depths = record["node_depths"]!.AsArray().Select(d => d!.GetValue<int>()).ToArray();
        depths.Should().Equal(Enumerable.Range(0, depths.Length), "one row per depth, root first");
        depths.Length.Should().BeGreaterThan(2, "three clusters under one root: the deepest leaf is below depth 1");
        record["n"]!.GetValue<int>().Should().Be(depths.Length * Cedm.Pipeline.MainJobPlan.ByDepthSeeds);
        File.Exists(Path.Combine(run, "samples/by_depth.png")).Should().BeTrue();
        File.ReadAllText(Path.Combine(run, "report.html")).Should().Contain("Samples by depth");

        (code, _, err) = Run("run", source, "--method", "kmeans", "--cond", "tree", "--k", "3", "--out", Path.Combine(Dir, "flat"));
        code.Should().Be(2);
        err.Should().Contain("--cond").And.Contain("agglo or treevae");
        new Cedm.Pipeline.MainJobOptions { Method = "treevae" }.ConditionsOnPaths().Should().BeTrue("TreeVAE runs condition on paths by default");
        new Cedm.Pipeline.MainJobOptions { Method = "agglo" }.ConditionsOnPaths().Should().BeFalse();
        new Cedm.Pipeline.MainJobOptions { Method = "treevae", Cond = "flat" }.ConditionsOnPaths().Should().BeFalse();
    }
}
