using System.Diagnostics;
using Cedm.Diffusion;
using Cedm.Diffusion.Training;
using Cedm.Tensors;
using Cedm.Tests.Diffusion;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Distributed;

/// <summary>
/// cedm under `mpirun -np 2` on this machine (docs/distributed.md), against the same command in one process, on 12
/// tiny 8×8 patterns: data-parallel training reaches one process's parameters, a run resumes on another rank
/// count, sharded sampling and feature extraction write the same bytes, and a killed rank ends the job within seconds. Each case starts
/// a few processes of a few seconds each; skipped without Open MPI.
/// </summary>
public sealed class MpiJobTests : CliTest
{
    /// <summary>
    /// Float tolerance of 2-rank against 1-process parameters after 4 Adam steps at lr 1e-3 (each step moves a weight
    /// by up to ~1e-3): the gradients differ only in summation order (two half-batch sums plus the all-reduce), and
    /// Adam's normalised step m/√v amplifies that for weights whose gradient is tiny. Measured on this test: max |Δ|
    /// 2.2e-5; the mean |Δ| is checked separately (<see cref="MeanTolerance"/>).
    /// </summary>
    private const float ParameterTolerance = 1e-4f;

    /// <summary>Mean |Δ| over all weights: most weights agree to float rounding.</summary>
    private const double MeanTolerance = 1e-6;

    private static double MeanDifference(IReadOnlyDictionary<string, Tensor> a, IReadOnlyDictionary<string, Tensor> b) =>
        a.Keys.Sum(k => a[k].Data.Zip(b[k].Data, (x, y) => (double)Math.Abs(x - y)).Sum()) / a.Values.Sum(t => (double)t.Size);

    private string[] TrainArgs(string source, string run, double kimg) =>
        ["train", source, "--cond", "labels", "--out", run, "--batch", "6", "--dropout", "0", "--lr-rampup-kimg", "0", "--kimg", Invariant(kimg),
         "--log-kimg", "0.006", "--checkpoint-kimg", "1", "--seed", "4"];

    private static string Invariant(double v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static CheckpointState Final(string run) => Checkpoint.Load(Checkpoint.Latest(run)!.Value.Path);

    private static float MaxDifference(IReadOnlyDictionary<string, Tensor> a, IReadOnlyDictionary<string, Tensor> b)
    {
        a.Keys.Should().BeEquivalentTo(b.Keys);
        return a.Keys.Max(k => a[k].Data.Zip(b[k].Data, (x, y) => Math.Abs(x - y)).DefaultIfEmpty(0f).Max());
    }

    [OpenMpiFact]
    public void TwoRanksTrainTheParametersOfOneProcessAndResumeAcrossRankCounts()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 4);
        string one = Path.Combine(Dir, "one"), two = Path.Combine(Dir, "two"), mixed = Path.Combine(Dir, "mixed");
        var r = MpiJob.Run(0, TrainArgs(source, one, 0.024), Dir);
        r.Code.Should().Be(0, r.Err);
        r = MpiJob.Run(2, TrainArgs(source, two, 0.024), Dir);
        r.Code.Should().Be(0, r.Err);
        r.Out.Count(c => c == '\n').Should().Be(1, "only rank 0 prints its summary line");
        // Half the steps in one process, the rest on two ranks (and the other way round is the same code path).
        r = MpiJob.Run(0, TrainArgs(source, mixed, 0.012), Dir);
        r.Code.Should().Be(0, r.Err);
        r = MpiJob.Run(2, ["train", source, "--out", mixed, "--resume", "--kimg", "0.024"], Dir);
        r.Code.Should().Be(0, r.Err);

        var a = Final(one);
        var config = RunConfig.Load(one);
        var init = new EdmPrecond(config.Network, new Rng(unchecked((ulong)config.Training.Seed))).StateDict();
        float moved = MaxDifference(a.Net, init);
        moved.Should().BeGreaterThan(20 * ParameterTolerance, "the tolerance must be small against how far 4 Adam steps move the weights");
        foreach (var (name, b) in new[] { ("2 ranks", Final(two)), ("1 then 2 ranks", Final(mixed)) })
        {
            (b.Step, b.CurNimg).Should().Be((a.Step, a.CurNimg), name);
            MaxDifference(a.Net, b.Net).Should().BeLessThan(ParameterTolerance, $"{name}: network (mean |Δ| {MeanDifference(a.Net, b.Net):E2})");
            MeanDifference(a.Net, b.Net).Should().BeLessThan(MeanTolerance, $"{name}: network");
            MaxDifference(a.Ema, b.Ema).Should().BeLessThan(ParameterTolerance, $"{name}: EMA (kept on rank 0)");
            MaxDifference(a.Optimizer, b.Optimizer).Should().BeLessThan(1e-3f, $"{name}: Adam moments");
            b.RngState.Should().Equal(a.RngState, $"{name}: every rank draws the whole batch's randomness, so the generator is the single process's");
        }
        var log1 = TrainingRun.ReadLog(one);
        var log2 = TrainingRun.ReadLog(two);
        log2.Select(l => l["loss"]!.GetValue<double>()).Should().Equal(log1.Select(l => l["loss"]!.GetValue<double>()),
            (x, y) => Math.Abs(x - y) < 1e-3 * Math.Abs(y), "rank 0 logs the loss of the global batch");
        log2.Should().OnlyContain(l => l["ranks"]!.GetValue<int>() == 2 && l["allreduce_ms"]!.GetValue<double>() > 0 && l["allreduce_wait_ms"] != null);
        TrainingRun.ReadLog(mixed).Select(l => l["step"]!.GetValue<long>()).Should().Equal(1, 2, 3, 4);
    }

    [OpenMpiFact]
    public void TwoRanksSampleTheImagesOfOneProcess()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 4), run = Path.Combine(Dir, "run");
        Run(TrainArgs(source, run, 0.012)).Code.Should().Be(0);
        string[] sample = ["sample", run, "--seeds", "3-9", "--cluster", "all", "--steps", "3"];
        var r = MpiJob.Run(0, [.. sample, "--out", "one.npy"], Dir);
        r.Code.Should().Be(0, r.Err);
        r = MpiJob.Run(2, [.. sample, "--out", "two.npy", "--grid", "two.png"], Dir);
        r.Code.Should().Be(0, r.Err);
        File.ReadAllBytes(Path.Combine(Dir, "two.npy")).Should().Equal(File.ReadAllBytes(Path.Combine(Dir, "one.npy")), "7 seeds × 3 clusters, split 3 + 4 over the ranks");
        File.ReadAllBytes(Path.Combine(Dir, "two_clusters.npy")).Should().Equal(File.ReadAllBytes(Path.Combine(Dir, "one_clusters.npy")));
        File.Exists(Path.Combine(Dir, "two.png")).Should().BeTrue();
    }

    [OpenMpiFact]
    public void TwoRanksExtractTheFeaturesOfOneProcessAndRefuseToFit()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 5);
        Run("features", source, "--extractor", "pca:6", "--out", Path.Combine(Dir, "fit.npy")).Code.Should().Be(0);
        string model = Cedm.Features.FeatureFile.ModelPath(Path.Combine(Dir, "fit.npy"));
        foreach (var extractor in new[] { "pixels", $"pca:{model}" })
        {
            var r = MpiJob.Run(0, ["features", source, "--extractor", extractor, "--out", "one.npy", "--force"], Dir);
            r.Code.Should().Be(0, r.Err);
            r = MpiJob.Run(2, ["features", source, "--extractor", extractor, "--out", "two.npy", "--force"], Dir);
            r.Code.Should().Be(0, r.Err);
            File.ReadAllBytes(Path.Combine(Dir, "two.npy")).Should().Equal(File.ReadAllBytes(Path.Combine(Dir, "one.npy")), $"{extractor}: 15 images split 7 + 8");
        }
        var refused = MpiJob.Run(2, ["features", source, "--extractor", "pca:6", "--out", "fit2.npy"], Dir);
        refused.Code.Should().Be(2, "fitting PCA on every rank would repeat it R times; it is refused");
        refused.Err.Should().Contain("needs fitting");
    }

    [OpenMpiFact]
    public void TwoRanksEvaluateAsOneProcessAndRefuseToFitTheEvaluator()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 5);
        var real = Cedm.IO.Npy.Read(Path.Combine(Dir, "images.npy"));
        var rng = new Rng(4);
        var noisy = real.ToFloat32().Select(v => (byte)Math.Clamp(v + 40 * (rng.NextDouble() - 0.5), 0, 255)).ToArray();
        Cedm.IO.Npy.Write(Path.Combine(Dir, "samples.npy"), noisy, real.Shape[0], 8, 8);
        string[] eval = ["eval", source, "samples.npy", "--evaluator", "pixels", "--kid-subsets", "4", "--kid-subset-size", "10", "--prdc-k", "3", "--no-cache"];
        var one = MpiJob.Run(0, [.. eval, "--out", "one.json"], Dir);
        one.Code.Should().Be(0, one.Err);
        var two = MpiJob.Run(2, [.. eval, "--out", "two.json"], Dir);
        two.Code.Should().Be(0, two.Err);
        var a = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "one.json")))!;
        var b = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "two.json")))!;
        foreach (var key in new[] { "fd", "kid", "kid_std", "precision", "recall", "density", "coverage", "n_real", "n_samples" })
            b[key]!.GetValue<double>().Should().Be(a[key]!.GetValue<double>(), $"{key}: 15 real and 15 sampled images split 7 + 8, gathered in order");
        a["fd"]!.GetValue<double>().Should().BeGreaterThan(0, "the samples differ from the real images");

        var refused = MpiJob.Run(2, ["eval", source, "samples.npy", "--evaluator", "pca:6", "--no-cache", "--out", "pca.json"], Dir);
        refused.Code.Should().Be(2, "fitting the evaluator on every rank would repeat it R times");
        refused.Err.Should().Contain("does not run on 2 ranks");
    }

    [OpenMpiFact]
    public void TwoRanksSearchTheBoundOfOneProcess()
    {
        var (x, _) = Cedm.Clustering.GaussianBlobs.Generate(600, 6, 8, new Rng(2), centreSpread: 8f);
        Cedm.IO.Npy.Write(Path.Combine(Dir, "feats.npy"), x.Data, 600, 8);
        string[] bound = ["bound", "feats.npy", "--k0", "2", "--epochs", "2", "--grid", "2", "--whiten", "0"];
        var one = MpiJob.Run(0, [.. bound, "--out", "one.json"], Dir);
        one.Code.Should().Be(0, one.Err);
        var two = MpiJob.Run(2, [.. bound, "--out", "two.json"], Dir);
        two.Code.Should().Be(0, two.Err);
        var a = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "one.json")))!;
        var b = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "two.json")))!;
        b["k_ub"]!.GetValue<int>().Should().Be(a["k_ub"]!.GetValue<int>());
        static Dictionary<int, int> Used(System.Text.Json.Nodes.JsonNode doc) =>
            doc["table"]!.AsArray().ToDictionary(r => r!["k"]!.GetValue<int>(), r => r!["utilized"]!.GetValue<int>());
        var (single, ranks) = (Used(a), Used(b));
        single.Count.Should().BeGreaterThan(2, "the search doubled and refined");
        foreach (var (k, used) in single)
            ranks.Should().ContainKey(k).WhoseValue.Should().Be(used, $"K = {k} is trained with the seed (seed, K) on whichever rank");
    }

    [OpenMpiFact]
    public void AVerbThatDoesNotShardRefusesToRunOnSeveralRanks()
    {
        var r = MpiJob.Run(2, ["cluster", "feats.npy", "--k", "3", "--out", "clusters"], Dir);
        r.Code.Should().NotBe(0);
        r.Err.Should().Contain("does not run distributed");
    }

    [OpenMpiFact]
    public void AKilledRankEndsTheJobWithinSecondsAndLeavesAValidCheckpoint()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 4), run = Path.Combine(Dir, "run");
        using var job = MpiJob.Start(2, ["train", source, "--cond", "labels", "--out", run, "--batch", "6", "--kimg", "1000", "--checkpoint-kimg", "0.006", "--keep", "1"], Dir);
        var stderr = job.StandardError.ReadToEndAsync();
        _ = job.StandardOutput.ReadToEndAsync();
        var wait = Stopwatch.StartNew();
        while (Checkpoint.Latest(run) is null && !job.HasExited && wait.Elapsed.TotalSeconds < 90) Thread.Sleep(100);
        job.HasExited.Should().BeFalse("the job trains until a rank is killed");
        Checkpoint.Latest(run).Should().NotBeNull("a checkpoint was written within 90 s");
        int victim = RankProcess(job.Id, 1);
        var clock = Stopwatch.StartNew();
        Process.GetProcessById(victim).Kill();
        bool ended = job.WaitForExit(15_000);
        double seconds = clock.Elapsed.TotalSeconds;
        if (!ended) job.Kill(entireProcessTree: true);
        ended.Should().BeTrue("mpirun ends every rank when one dies instead of leaving rank 0 waiting in an all-reduce");
        seconds.Should().BeLessThan(10);
        job.ExitCode.Should().NotBe(0);
        stderr.Result.Should().MatchRegex("(?is)signal|killed|exited", "mpirun names the rank that died");
        var latest = Checkpoint.Latest(run)!.Value;
        Checkpoint.Load(latest.Path).Step.Should().BeGreaterThan(0, "the last checkpoint is complete and loads");
    }

    /// <summary>The pid of the rank <paramref name="rank"/> process under mpirun <paramref name="mpirun"/> (from its environment).</summary>
    private static int RankProcess(int mpirun, int rank)
    {
        var wait = Stopwatch.StartNew();
        while (wait.Elapsed.TotalSeconds < 30)
        {
            foreach (var dir in Directory.GetDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
            {
                try
                {
                    string[] stat = File.ReadAllText(Path.Combine(dir, "stat")).Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (int.Parse(stat[1], System.Globalization.CultureInfo.InvariantCulture) != mpirun) continue;
                    var env = File.ReadAllText(Path.Combine(dir, "environ")).Split('\0');
                    if (env.Contains($"OMPI_COMM_WORLD_RANK={rank}")) return int.Parse(Path.GetFileName(dir), System.Globalization.CultureInfo.InvariantCulture);
                }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
            Thread.Sleep(100);
        }
        throw new InvalidOperationException($"no rank {rank} process under mpirun {mpirun}");
    }
}
