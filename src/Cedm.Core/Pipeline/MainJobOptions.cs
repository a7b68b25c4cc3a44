using System.Text.Json;
using Cedm.Diffusion.Sampling;

namespace Cedm.Pipeline;

/// <summary>
/// Options of `cedm run`, saved as run.json in the run folder. Two budgets: the default run (≤ 20 minutes on
/// 2 cores for Fashion-MNIST) and --quick (≤ 3 minutes, a smoke test on the 10k test split with tiny budgets).
/// </summary>
public sealed record MainJobOptions
{
    /// <summary>The data source (cli.md "Data sources").</summary>
    public string Source { get; init; } = "fashion-mnist";

    public bool Quick { get; init; }

    /// <summary>Feature extractor for clustering (and the bound search).</summary>
    public string Features { get; init; } = "pca:64";

    /// <summary>
    /// Clustering method at the chosen K. The bound search is TEMI's (spec §5), but the final clustering defaults to
    /// k-means: on the default PCA-64 features of Fashion-MNIST, TEMI at a CPU budget reaches NMI 0.33 against the
    /// labels where k-means reaches 0.47 (K = 10, docs/clustering.md), in seconds instead of minutes; clusters that
    /// agree better with what images look like are better conditions. `--method temi` follows the paper.
    /// </summary>
    public string Method { get; init; } = "kmeans";

    public const string FlatCond = "flat", TreeCond = "tree";

    /// <summary>
    /// How the network sees a cluster: "flat" (one id per cluster, C-EDM) or "tree" (the sum of node embeddings along
    /// the cluster's root-to-leaf path in the clustering's tree, related-seeds A′.3; agglo and treevae build trees).
    /// Null: tree for treevae — on its Fashion-MNIST tree, path conditioning beat flat ids at equal kimg in both
    /// training seeds (docs/hierarchy.md) — flat otherwise (on the Ward tree one short run found the opposite). A
    /// tree-conditioned run adds samples by depth, root to the deepest leaf, to the report.
    /// </summary>
    public string? Cond { get; init; }

    /// <summary>Whether training conditions on tree paths (<see cref="Cond"/>, resolved for the method).</summary>
    public bool ConditionsOnPaths() => (Cond ?? (Method == "treevae" ? TreeCond : FlatCond)) == TreeCond;

    /// <summary>
    /// K to condition on. Null: the K that <see cref="Clustering.Bounds.BoundResult.ConditioningK(int, long, int, int)"/>
    /// takes from the bound search's K_UB — about K_UB/3 (the paper's best K lay well below its bound), at most one
    /// cluster per 2 000 images the training will show (<see cref="ExpectedTrainImages"/>) and per 50 training images
    /// — but at least 2 when K_UB allows (K = 1 is the unconditional model), capped at <see cref="MaxK"/> when given.
    /// </summary>
    public int? K { get; init; }

    /// <summary>An explicit cap of the bound search and of the chosen K; null = none (the search's data cap and time budget decide).</summary>
    public int? MaxK { get; init; }

    /// <summary>
    /// Rows of the bound search (a random subset of the features): TEMI's time grows with N. The data cap still counts
    /// every row of the features (K ≤ N/50).
    /// </summary>
    public int BoundRows { get; init; } = 12000;

    /// <summary>Time budget of the bound search in minutes (it stops before a TEMI run that would pass it and says so).</summary>
    public double BoundMinutes { get; init; } = 5;

    /// <summary>
    /// Tiny-preset training speed this machine class reaches, images per second (README: 89.5 kimg in the 12 training
    /// minutes of the default run on 2 cores, 125 img/s): turns the minutes budget into the images the conditioning-K
    /// rule needs before training has run.
    /// </summary>
    public const double TrainImagesPerSecond = 125;

    /// <summary>Images the training budget is expected to show the model.</summary>
    public long ExpectedTrainImages => (long)(TrainMinutes * 60 * TrainImagesPerSecond);

    /// <summary>TEMI epochs of each bound-search run and of the final clustering (the cpu preset's default when null).</summary>
    public int? TemiEpochs { get; init; } = 5;

    /// <summary>A TreeVAE clustering's epochs "I/S/M/F" (`cedm cluster --tree-epochs`); null = the cpu preset's (--quick: 4/2/0/2).</summary>
    public string? TreeEpochs { get; init; }

    /// <summary>U-Net preset.</summary>
    public string Preset { get; init; } = "tiny";

    /// <summary>Training budget in minutes (wall clock, summed over resumed invocations).</summary>
    public double TrainMinutes { get; init; } = 12;

    /// <summary>Steps N of the sampler (EDM: 18): 2N − 1 = 35 network evaluations per image with Heun, N with dpm2m.</summary>
    public int SamplerSteps { get; init; } = 18;

    /// <summary>The sampler's ODE solver (`cedm sample --solver`), saved in run.json as "heun" or "dpm2m".</summary>
    public SamplerSolver SamplerSolver { get; init; } = SamplerSolvers.Default;

    /// <summary>Generated images per cluster in the report's sample sheets.</summary>
    public int SamplesPerCluster { get; init; } = 6;

    /// <summary>
    /// Generated images for the metrics (clusters drawn from the training p(c)). Sampling costs 35 network evaluations
    /// per image, so the default budget affords hundreds, not the 50k of the papers: FD from 500 samples is biased
    /// upwards (compare runs at equal sample counts only).
    /// </summary>
    public int EvalSamples { get; init; } = 500;

    /// <summary>Feature space of the metrics; null = `cedm eval`'s default for the source.</summary>
    public string? Evaluator { get; init; }

    public int Seed { get; init; }

    /// <summary>The --quick budget: the 10k test split, short TEMI runs, one minute of training, few samples and sampler steps.</summary>
    public MainJobOptions AsQuick() => this with
    {
        Quick = true,
        Source = Source == "fashion-mnist" || Source == "fashion-mnist:train" ? "fashion-mnist:test" : Source,
        MaxK = Math.Min(MaxK ?? 20, 20),
        BoundMinutes = 1,
        BoundRows = 4000,
        TemiEpochs = 2,
        TreeEpochs = "4/2/0/2",
        TrainMinutes = 1,
        SamplerSteps = 8,
        SamplesPerCluster = 4,
        EvalSamples = 200,
    };

    /// <summary>
    /// Checks every setting before the first step runs, so a typo fails in the first second rather than after the
    /// minutes of features and bound search that precede the step using it.
    /// </summary>
    public void Validate()
    {
        try { Data.DataSource.Parse(Source); }
        catch (FormatException e) { throw new SettingException(nameof(Source), e.Message); }
        Diffusion.Networks.SongUNetOptions.FromPreset(Preset);
        if (Method is not ("temi" or "kmeans" or "gmm" or "agglo" or "treevae")) throw new SettingException(nameof(Method), $"expected temi, kmeans, gmm, agglo or treevae, got {Method}");
        if (string.IsNullOrWhiteSpace(Features)) throw new SettingException(nameof(Features), "give a feature extractor");
        if (Cond is not (null or FlatCond or TreeCond)) throw new SettingException(nameof(Cond), $"expected {FlatCond} or {TreeCond}, got {Cond}");
        if (ConditionsOnPaths() && Method is not ("agglo" or "treevae")) throw new SettingException(nameof(Cond), $"tree conditioning needs a clustering with a tree (agglo or treevae), not {Method}");
        if (K is < 1) throw new SettingException(nameof(K), $"must be at least 1, got {K}");
        if (MaxK is < 2) throw new SettingException(nameof(MaxK), $"must be at least 2, got {MaxK}");
        if (!(TrainMinutes > 0) || double.IsInfinity(TrainMinutes)) throw new SettingException("Minutes", $"must be a positive number of minutes, got {TrainMinutes}");
        if (EvalSamples < 2) throw new SettingException(nameof(EvalSamples), $"must be at least 2 (a covariance needs two samples), got {EvalSamples}");
        if (SamplerSteps < 1) throw new SettingException(nameof(SamplerSteps), $"must be at least 1, got {SamplerSteps}");
        if (!Enum.IsDefined(SamplerSolver)) throw new SettingException(nameof(SamplerSolver), $"not a sampler solver: {(int)SamplerSolver}");
        if (SamplesPerCluster < 1) throw new SettingException(nameof(SamplesPerCluster), $"must be at least 1, got {SamplesPerCluster}");
        if (BoundRows < 2) throw new SettingException(nameof(BoundRows), $"must be at least 2, got {BoundRows}");
        if (!(BoundMinutes >= 0)) throw new SettingException(nameof(BoundMinutes), $"must be at least 0, got {BoundMinutes}");
        if (TemiEpochs is < 1) throw new SettingException(nameof(TemiEpochs), $"must be at least 1, got {TemiEpochs}");
    }

    public const string FileName = "run.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static MainJobOptions FromJson(string json) => JsonSerializer.Deserialize<MainJobOptions>(SamplerSolvers.WithLegacySolver(json, "sampler_solver"), Json)
        ?? throw new InvalidDataException("run.json is empty");
}
