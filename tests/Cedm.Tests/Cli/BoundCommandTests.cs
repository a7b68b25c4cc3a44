using System.Text.Json;
using Cedm.Clustering;
using Cedm.IO;
using Cedm.Tensors;
using FluentAssertions;

using Cedm.Tests.TestUtilities;

namespace Cedm.Tests.Cli;

/// <summary>`cedm bound` in-process: the cli.md JSON keys, --lower, refusal to overwrite, and exit 2 on bad input.</summary>
public sealed class BoundCommandTests : CliTest
{
    [Fact]
    public void WritesTheCliKeysIncludingTheLowerBound()
    {
        var (x, _) = GaussianBlobs.Generate(200, 3, 6, new Rng(1));
        string feats = Path.Combine(Dir, "feats.npy"), output = Path.Combine(Dir, "bound.json");
        Npy.Write(feats, x.Data, 200, 6);
        var (code, stdout, err) = Run("bound", feats, "--out", output, "--k0", "2", "--max-k", "8", "--epochs", "2", "--grid", "1", "--lower", "--max-n", "150", "--json");
        code.Should().Be(0, err);
        using var json = JsonDocument.Parse(File.ReadAllText(output));
        var root = json.RootElement;
        int kUb = root.GetProperty("k_ub").GetInt32();
        kUb.Should().BeInRange(1, 8);
        root.GetProperty("n").GetInt32().Should().Be(150, "--max-n subsamples the rows");
        root.GetProperty("data_cap_k").GetInt32().Should().Be(4, "the file's 200 rows / 50 per cluster (the bound is for the data set, not the subsample)");
        root.GetProperty("time_budget_seconds").GetDouble().Should().Be(600, "--budget-minutes defaults to 10");
        root.GetProperty("stop").GetString().Should().BeOneOf("threshold", "data");
        root.GetProperty("capped").GetBoolean().Should().Be(root.GetProperty("stop").GetString() != "threshold");
        root.GetProperty("threshold").GetDouble().Should().Be(Cedm.Clustering.Bounds.BoundOptions.DefaultThreshold);
        var table = root.GetProperty("table").EnumerateArray().ToArray();
        table.Should().NotBeEmpty();
        foreach (var row in table)
            row.GetProperty("ratio").GetDouble().Should().BeApproximately(row.GetProperty("utilized").GetInt32() / (double)row.GetProperty("k").GetInt32(), 1e-12);
        table.Where(r => r.GetProperty("ratio").GetDouble() >= Cedm.Clustering.Bounds.BoundOptions.DefaultThreshold).Max(r => r.GetProperty("k").GetInt32()).Should().BeGreaterThanOrEqualTo(kUb);
        root.GetProperty("k_lb").GetInt32().Should().BeInRange(1, 2 * kUb);
        JsonDocument.Parse(stdout).RootElement.GetProperty("k_ub").GetInt32().Should().Be(kUb, "--json prints the same document");

        Run("bound", feats, "--out", output, "--epochs", "1").Code.Should().Be(2, "an existing output is not overwritten without --force");
    }

    [Fact]
    public void BadFeaturesFileExitsWithTwo()
    {
        string bad = Path.Combine(Dir, "bad.npy"), ints = Path.Combine(Dir, "ints.npy");
        File.WriteAllText(bad, "not numpy");
        Npy.Write(ints, new long[] { 1, 2, 3, 4 }, 2, 2);
        foreach (var path in new[] { bad, ints, Path.Combine(Dir, "missing.npy") })
        {
            var (code, _, err) = Run("bound", path, "--out", Path.Combine(Dir, "b.json"));
            code.Should().Be(2, path);
            err.Should().StartWith("error:");
        }
        Run("bound", bad, "--out", Path.Combine(Dir, "b.json"), "--threshold", "1.5").Code.Should().Be(2);
    }
}

/// <summary>`cedm cluster --method temi` in-process: outputs, the saved model, and TEMI options on the command line.</summary>
public sealed class ClusterTemiCommandTests : CliTest
{
    [Fact]
    public void WritesAssignmentProbabilitiesAndALoadableModel()
    {
        var (x, _) = GaussianBlobs.Generate(150, 3, 5, new Rng(2));
        string feats = Path.Combine(Dir, "feats.npy"), outDir = Path.Combine(Dir, "temi");
        Npy.Write(feats, x.Data, 150, 5);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Cedm.Cli.Program.Run(["cluster", feats, "--method", "temi", "--k", "4", "--out", outDir, "--preset", "cpu", "--epochs", "2", "--heads", "2", "--beta", "1", "--knn", "10", "--json"], stdout, stderr);
        code.Should().Be(0, stderr.ToString());
        var a = ClusterAssignment.Load(outDir);
        (a.Method, a.K, a.Count).Should().Be(("temi", 4, 150));
        a.Probabilities!.Length.Should().Be(150 * 4);
        a.Options!["Heads"]!.GetValue<int>().Should().Be(2);
        a.Options!["Beta"]!.GetValue<double>().Should().Be(1.0);
        var model = ClusterModels.Load(outDir);
        model.Predict(x).Ids.Should().Equal(a.Ids);
        Cedm.Cli.Program.Run(["cluster", feats, "--method", "temi", "--k", "4", "--out", outDir, "--heads", "0", "--force"], new StringWriter(), stderr).Should().Be(2);
    }

    [Fact]
    public void WhitenSetsTheInputTransformAndRefusesNegativeDimensions()
    {
        var (x, _) = GaussianBlobs.Generate(150, 3, 5, new Rng(2));
        string feats = Path.Combine(Dir, "feats.npy");
        Npy.Write(feats, x.Data, 150, 5);
        foreach (var (whiten, dims) in new[] { ("0", 0), ("3", 3) })
        {
            string outDir = Path.Combine(Dir, $"w{whiten}");
            var (code, _, err) = Run("cluster", feats, "--method", "temi", "--k", "3", "--epochs", "1", "--heads", "2", "--whiten", whiten, "--out", outDir);
            code.Should().Be(0, err);
            var a = ClusterAssignment.Load(outDir);
            a.Options!["whitened_dimension"]!.GetValue<int>().Should().Be(dims);
            ((Cedm.Clustering.Temi.TemiModel)ClusterModels.Load(outDir)).Head.InputDim.Should().Be(dims == 0 ? 5 : dims);
        }
        var (bad, _, message) = Run("cluster", feats, "--method", "temi", "--k", "3", "--whiten", "-1", "--out", Path.Combine(Dir, "bad"));
        bad.Should().Be(2);
        message.Should().Contain("--whiten");
        Run("bound", "--help").Out.Should().Contain("--whiten");
    }
}
