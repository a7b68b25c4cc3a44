using System.Text.Json;
using System.Text.Json.Serialization;
using Cedm.Diffusion.Sampling;

namespace Cedm.Pipeline.Study;

/// <summary>
/// Options of `cedm study`, saved as study-options.json in the study folder. Every variant trains for the same
/// number of training images (<see cref="Kimg"/>), not the same minutes: on a shared machine wall-clock budgets
/// would hand a variant that ran during someone's build fewer images, and the comparison would measure the load.
/// </summary>
public sealed record StudyOptions
{
    /// <summary>The data source (cli.md "Data sources").</summary>
    public string Source { get; init; } = "fashion-mnist";

    public bool Quick { get; init; }

    /// <summary>Feature extractor for clustering and the bound search (as `cedm run`).</summary>
    public string Features { get; init; } = "pca:64";

    /// <summary>Clustering method of the cluster-conditioned variants.</summary>
    public string Method { get; init; } = "temi";

    /// <summary>Cap of the bound search (K_UB ≤ this), as `cedm run --max-k`.</summary>
    public int? MaxK { get; init; }

    /// <summary>Time budget of the bound search in minutes.</summary>
    public double BoundMinutes { get; init; } = 10;

    /// <summary>Rows of the bound search (a random subset of the features), as `cedm run`.</summary>
    public int BoundRows { get; init; } = 12000;

    /// <summary>TEMI epochs of every bound-search run and clustering (the cpu preset's default when null).</summary>
    public int? TemiEpochs { get; init; } = 5;

    /// <summary>
    /// The K of the cluster-conditioned variants. Null: from K_UB — {K_UB/2 (when ≥ 2), K_UB, 2·K_UB, 4·K_UB}, plus
    /// the source's label count — so the set brackets the bound and reaches well above it (C-EDM Figure 3).
    /// </summary>
    public IReadOnlyList<int>? Ks { get; init; }

    /// <summary>
    /// Null: the Ks of <see cref="Ks"/> or around K_UB. A number K0: K doubles from K0 until it passes 2·K_UB, with K_UB
    /// itself among them (the "K doubling from 10 to 2 K_UB"; C-EDM's best K lay well below its bound).
    /// </summary>
    public int? KStart { get; init; }

    /// <summary>
    /// Training seeds of the unconditional, the label and the best-K model: 2 trains each a second time with seed
    /// Seed + 1 (variants uncond-s1, labels-s1, best-s1), so the table shows the spread a seed alone makes.
    /// </summary>
    public int TrainingSeeds { get; init; } = 1;

    /// <summary>
    /// A second extractor (e.g. pca:64) whose clusters at K_UB condition one more model (variant &lt;name&gt;-k&lt;K_UB&gt;):
    /// the feature comparison at equal K and budget. Null: none.
    /// </summary>
    public string? CompareFeatures { get; init; }

    /// <summary>Largest K trained (TEMI and the label embedding stay affordable; see also <see cref="MinImagesPerCluster"/>).</summary>
    public int KCap { get; init; } = 160;

    /// <summary>Ks above N / this are dropped: a cluster of fewer images than this is not a distribution to learn.</summary>
    public int MinImagesPerCluster { get; init; } = 50;

    /// <summary>Train the ground-truth-label variant when the source has labels.</summary>
    public bool Labels { get; init; } = true;

    /// <summary>U-Net preset of every variant.</summary>
    public string Preset { get; init; } = "tiny";

    /// <summary>Training images per variant, in thousands (the equal budget).</summary>
    public double Kimg { get; init; } = 12;

    /// <summary>
    /// Points of the sample-efficiency curve (FD over kimg) for the unconditional and the best-K model: checkpoints
    /// at Kimg·i/n for i = 1..n (the last is the final model).
    /// </summary>
    public int SeriesPoints { get; init; } = 3;

    /// <summary>Steps N of the sampler (EDM: 18): 2N − 1 network evaluations per image with Heun, N with dpm2m.</summary>
    public int SamplerSteps { get; init; } = 18;

    /// <summary>The sampler's ODE solver of every variant (`cedm sample --solver`; a variant's own --solver wins).</summary>
    public SamplerSolver SamplerSolver { get; init; } = SamplerSolvers.Default;

    /// <summary>Generated images per model for the metrics, clusters drawn from each model's training p(c), seeds 0..n−1 for all.</summary>
    public int EvalSamples { get; init; } = 250;

    /// <summary>Feature space of the metrics; null = `cedm eval`'s default (fmnist for Fashion-MNIST: FD_fmnist).</summary>
    public string? Evaluator { get; init; }

    /// <summary>
    /// Train the guidance variants at the best K (issue "CAD"): coherence-aware conditioning (CAD, related-seeds §C)
    /// sampled plainly and with coherence-aware guidance at each of <see cref="CaGuidance"/>, and classifier-free
    /// guidance (condition dropout <see cref="PUncond"/>) at each of <see cref="CfgGuidance"/> — all at the same kimg.
    /// </summary>
    public bool Guidance { get; init; } = true;

    /// <summary>Coherence score of the CAD model (`cedm train --coherence`; maxprob = TEMI's max soft probability).</summary>
    public string Coherence { get; init; } = "maxprob";

    /// <summary>Coherence-aware guidance scales ω of the CAD model: (1+ω)·D(c=1) − ω·D(c=0) (related-seeds §C.6).</summary>
    public IReadOnlyList<double> CaGuidance { get; init; } = [1, 3];

    /// <summary>Condition dropout of the classifier-free-guidance model (CAD's CFG baseline: 10%).</summary>
    public double PUncond { get; init; } = 0.1;

    /// <summary>Classifier-free guidance weights w: (1+w)·D(c) − w·D(∅) (spec §1.5).</summary>
    public IReadOnlyList<double> CfgGuidance { get; init; } = [1, 3];

    /// <summary>Further variants in the <see cref="StudyVariant.Parse"/> syntax (e.g. CFG or coherence-aware ones).</summary>
    public IReadOnlyList<string> ExtraVariants { get; init; } = [];

    public int Seed { get; init; }

    /// <summary>The --quick smoke test (a couple of minutes): the 10k test split, tiny bound search, 0.2 kimg, 32 samples, 6 sampler steps.</summary>
    public StudyOptions AsQuick() => this with
    {
        Quick = true,
        Source = Source == "fashion-mnist" || Source == "fashion-mnist:train" ? "fashion-mnist:test" : Source,
        MaxK = Math.Min(MaxK ?? 16, 16),
        BoundMinutes = 1,
        KCap = Math.Min(KCap, 32),
        BoundRows = 2000,
        TemiEpochs = 1,
        Kimg = 0.2,
        SeriesPoints = 2,
        SamplerSteps = 6,
        EvalSamples = 32,
        CaGuidance = CaGuidance.Take(1).ToArray(),
        CfgGuidance = CfgGuidance.Take(1).ToArray(),
    };

    public void Validate()
    {
        if (!(Kimg > 0)) throw new ArgumentException($"must be positive, got {Kimg}", nameof(Kimg));
        if (EvalSamples < 2) throw new ArgumentException($"must be at least 2, got {EvalSamples}", nameof(EvalSamples));
        if (SeriesPoints < 1) throw new ArgumentException($"must be at least 1, got {SeriesPoints}", nameof(SeriesPoints));
        if (SamplerSteps < 1) throw new ArgumentException($"must be at least 1, got {SamplerSteps}", nameof(SamplerSteps));
        if (!Enum.IsDefined(SamplerSolver)) throw new ArgumentException($"not a sampler solver: {(int)SamplerSolver}", nameof(SamplerSolver));
        if (MaxK is < 2) throw new ArgumentException($"must be at least 2, got {MaxK}", nameof(MaxK));
        if (!(BoundMinutes >= 0)) throw new ArgumentException($"must be at least 0, got {BoundMinutes}", nameof(BoundMinutes));
        if (KCap < 2) throw new ArgumentException($"must be at least 2, got {KCap}", nameof(KCap));
        if (Ks is { } ks && ks.Any(k => k < 2)) throw new ArgumentException($"every K must be at least 2, got {string.Join(',', ks)}", nameof(Ks));
        if (!(PUncond > 0 && PUncond < 1)) throw new ArgumentException($"must be in (0, 1), got {PUncond}", nameof(PUncond));
        if (KStart is < 2) throw new ArgumentException($"must be at least 2, got {KStart}", nameof(KStart));
        if (TrainingSeeds is < 1 or > 2) throw new ArgumentException($"must be 1 or 2, got {TrainingSeeds}", nameof(TrainingSeeds));
        foreach (var v in ExtraVariants) StudyVariant.Parse(v);
    }

    public const string FileName = "study-options.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static StudyOptions FromJson(string json) => JsonSerializer.Deserialize<StudyOptions>(SamplerSolvers.WithLegacySolver(json, "sampler_solver"), Json)
        ?? throw new InvalidDataException($"{FileName} is empty");

    /// <summary>Record equality compares lists by reference; a resumed study compares the saved options by value.</summary>
    public bool SameAs(StudyOptions other) => ToJson() == other.ToJson();
}
