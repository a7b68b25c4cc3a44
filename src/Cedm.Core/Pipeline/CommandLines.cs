using System.Globalization;
using Cedm.Diffusion.Coherence;
using Cedm.Diffusion.Sampling;
using Cedm.Diffusion.Training;
using Cedm.Stages;

namespace Cedm.Pipeline;

/// <summary>
/// The cedm command lines equivalent to the typed requests the pipeline steps run (written into each step's log
/// and completion marker, so a user can re-run or replace any step by hand). This is the one place outside the CLI
/// that spells the CLI's flags (../shared/spec/cli.md): the pipeline's record of what it did is, by contract, a
/// command line. Tests parse these lines with the CLI and check that they ask for exactly the request the step ran.
/// </summary>
public static class CommandLines
{
    public static string[] Features(FeatureRequest r) =>
        ["features", r.Source, "--extractor", r.Extractor, "--out", r.Out, "--seed", I(r.Seed), .. Force(r.Force)];

    /// <param name="r">The request.</param>
    /// <param name="temiEpochs">The epochs override the request's TEMI options were made with (null: the preset's).</param>
    public static string[] Bound(BoundRequest r, int? temiEpochs) =>
    [
        "bound", r.Features, "--out", r.Out, .. r.Options.MaxK < int.MaxValue ? ["--max-k", I(r.Options.MaxK)] : Array.Empty<string>(),
        .. r.MaxRows is int n ? ["--max-n", I(n)] : Array.Empty<string>(), "--budget-minutes", D(r.Options.TimeBudgetSeconds / 60),
        .. r.Options.MinRowsPerCluster != new Clustering.Bounds.BoundOptions().MinRowsPerCluster ? ["--min-per-cluster", I(r.Options.MinRowsPerCluster)] : Array.Empty<string>(),
        "--seed", I(r.Options.Seed), .. Force(r.Force), .. Epochs(temiEpochs),
        .. r.Options.K0 != new Clustering.Bounds.BoundOptions().K0 ? ["--k0", I(r.Options.K0)] : Array.Empty<string>(),
    ];

    /// <param name="r">The request.</param>
    /// <param name="temiEpochs">The epochs override of a TEMI clustering's cpu preset (null: the preset's).</param>
    /// <param name="treeEpochs">A TreeVAE clustering's "I/S/M/F" epochs (null: the cpu preset's).</param>
    public static string[] Cluster(ClusteringRequest r, int? temiEpochs, string? treeEpochs = null) =>
    [
        "cluster", r.Features, "--method", r.Settings.Method, "--k", I(r.Settings.K), "--out", r.Out, "--seed", I(r.Seed), .. Force(r.Force),
        .. r.Settings.Method == "temi" ? ["--preset", "cpu", .. Epochs(temiEpochs)] : Array.Empty<string>(),
        .. r.Settings.Method == "treevae" ? ["--preset", "cpu", .. treeEpochs is null ? Array.Empty<string>() : ["--tree-epochs", treeEpochs]] : Array.Empty<string>(),
    ];

    /// <summary>A fresh `cedm train`: every training setting that differs from the CLI's default is spelled out.</summary>
    public static string[] Train(TrainRequest r)
    {
        var t = r.Training;
        var d = new TrainingOptions();
        var args = new List<string> { "train", r.Source, "--cond", r.Cond, "--out", r.Out, "--preset", t.Preset };
        if (t.Kimg is double kimg) args.AddRange(["--kimg", D(kimg)]);
        if (t.Minutes is double minutes) args.AddRange(["--minutes", D(minutes)]);
        args.AddRange(["--seed", t.Seed.ToString(CultureInfo.InvariantCulture)]);
        if (r.Force) args.Add("--force");
        void Differs(string flag, double value, double fallback) { if (value != fallback) args.AddRange([flag, D(value)]); }
        Differs("--batch", t.Batch, d.Batch);
        Differs("--lr", t.Lr, d.Lr);
        Differs("--lr-rampup-kimg", t.LrRampupKimg, d.LrRampupKimg);
        Differs("--ema-kimg", t.EmaHalflifeKimg, d.EmaHalflifeKimg);
        Differs("--ema-rampup", t.EmaRampupRatio ?? 0, d.EmaRampupRatio ?? 0);
        Differs("--checkpoint-kimg", t.CheckpointKimg, d.CheckpointKimg);
        Differs("--log-kimg", t.LogKimg, d.LogKimg);
        Differs("--keep", t.KeepCheckpoints, d.KeepCheckpoints);
        Differs("--p-uncond", t.PUncond, d.PUncond);
        Differs("--path-truncation", t.PathTruncation, d.PathTruncation);
        if (t.XFlip) args.Add("--xflip");
        if (t.Dropout is float dropout) args.AddRange(["--dropout", dropout.ToString("R", CultureInfo.InvariantCulture)]);
        if (r.Resolution is int res) args.AddRange(["--resolution", I(res)]);
        if (r.Pad is int pad) args.AddRange(["--pad", I(pad)]);
        if (r.Coherence is { } c)
        {
            var dc = new CoherenceOptions();
            args.AddRange(["--coherence", c.Source]);
            if (c.Mode != dc.Mode) args.AddRange(["--coherence-mode", c.Mode]);
            if (c.Bins != dc.Bins) args.AddRange(["--coherence-bins", I(c.Bins)]);
            if (c.QuantileLow != dc.QuantileLow || c.QuantileHigh != dc.QuantileHigh) args.AddRange(["--coherence-quantiles", $"{D(c.QuantileLow)},{D(c.QuantileHigh)}"]);
        }
        return [.. args];
    }

    /// <summary>`cedm train --resume` with the budget of <paramref name="r"/>.</summary>
    public static string[] Resume(ResumeRequest r, string source) =>
    [
        "train", source, "--out", r.Out, "--resume",
        .. r.Kimg is double k ? ["--kimg", D(k)] : Array.Empty<string>(), .. r.Minutes is double m ? ["--minutes", D(m)] : Array.Empty<string>(),
    ];

    /// <summary>`cedm sample`: seeds as --n when they are 0..n−1, else as a range; every sampler setting that differs from the default.</summary>
    public static string[] Sample(SampleRequest r)
    {
        var s = r.Sampler;
        var d = new SamplerOptions();
        long first = r.Seeds[0];
        bool fromZero = first == 0 && r.Seeds[^1] == r.Seeds.Count - 1;
        string[] seeds = fromZero ? ["--n", I(r.Seeds.Count)] : ["--seeds", $"{first}-{r.Seeds[^1]}"];
        var args = new List<string> { "sample", r.Run };
        args.AddRange(seeds);
        args.AddRange(["--steps", I(s.Steps), "--out", r.Out]);
        if (r.Grid is not null) args.AddRange(["--grid", r.Grid]);
        if (r.Force) args.Add("--force");
        if (r.Cluster != "p") args.AddRange(["--cluster", r.Cluster]);
        // Always spelled out: a recorded line must reproduce its samples whatever the default solver becomes.
        args.AddRange(["--solver", SamplerSolvers.Name(s.Solver)]);
        void Differs(string flag, double value, double fallback) { if (value != fallback) args.AddRange([flag, D(value)]); }
        Differs("--guidance", s.Guidance, d.Guidance);
        Differs("--ca-guidance", s.CoherenceGuidance, d.CoherenceGuidance);
        Differs("--ca-low", s.CoherenceLow, d.CoherenceLow);
        Differs("--sigma-min", s.SigmaMin, d.SigmaMin);
        Differs("--sigma-max", s.SigmaMax, d.SigmaMax);
        Differs("--rho", s.Rho, d.Rho);
        Differs("--s-churn", s.SChurn, d.SChurn);
        Differs("--s-min", s.SMin, d.SMin);
        Differs("--s-max", s.SMax, d.SMax);
        Differs("--s-noise", s.SNoise, d.SNoise);
        Differs("--batch", s.BatchSize, d.BatchSize);
        if (r.Coherence is double c) args.AddRange(["--coherence", D(c)]);
        if (r.Checkpoint is not null) args.AddRange(["--checkpoint", r.Checkpoint]);
        return [.. args];
    }

    public static string[] Eval(EvalRequest r) =>
    [
        "eval", r.Real, r.Samples, "--out", r.Out,
        .. r.Clusters is null ? Array.Empty<string>() : ["--clusters", r.Clusters],
        .. r.SampleClusters is null ? Array.Empty<string>() : ["--sample-clusters", r.SampleClusters],
        "--seed", I(r.Seed), .. Force(r.Force),
        .. r.Evaluator is null ? Array.Empty<string>() : ["--evaluator", r.Evaluator],
        .. r.TrainSource is null ? Array.Empty<string>() : ["--train-source", r.TrainSource],
        .. r.KidSubsets != new EvalRequest { Real = "", Samples = "", Out = "" }.KidSubsets ? ["--kid-subsets", I(r.KidSubsets)] : Array.Empty<string>(),
        .. r.KidSubsetSize != new EvalRequest { Real = "", Samples = "", Out = "" }.KidSubsetSize ? ["--kid-subset-size", I(r.KidSubsetSize)] : Array.Empty<string>(),
    ];

    /// <summary>"cedm a b ..." with arguments containing white space quoted.</summary>
    public static string Render(IEnumerable<string> args) => "cedm " + string.Join(' ', args.Select(a => a.Any(char.IsWhiteSpace) ? $"\"{a}\"" : a));

    private static string[] Force(bool force) => force ? ["--force"] : [];

    private static string[] Epochs(int? e) => e is int v ? ["--epochs", I(v)] : [];

    public static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>Shortest round-trip text of a number (so the line parses back to the same value).</summary>
    public static string D(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
