using Cedm.Clustering.Temi;

namespace Cedm.Clustering.Bounds;

/// <summary>
/// Options of the utilisation-ratio bound search (spec §5.2). The threshold τ is not known from the paper
/// ([unverified] in the spec); <see cref="DefaultThreshold"/> is our choice from measurements on data with known K.
/// </summary>
public sealed record BoundOptions
{
    /// <summary>
    /// Default τ = 0.95. Evidence (tools/experiments/bound_blobs.sh, CPU preset, K0 = 2; Gaussian blobs, centres
    /// N(0, 4²I), unit-variance points): TEMI (β = 0.6) fills every cluster up to just above the true K and then keeps
    /// adding about one used cluster per true one — 6 blobs in 16-D (N = 1 200, two data seeds, identical curves):
    /// r(2) = r(4) = 1, r(8) = 7/8, r(16) = 14/16, r(32) = 21/32; 4 blobs in 8-D (N = 600, unit test):
    /// r(2) = r(4) = r(5) = r(6) = r(7) = 1, r(8) = 7/8. So every τ in (0.875, 1] stops the doubling at 8 and the
    /// grid (5, 6, 7) gives K_UB = 7 for true K = 4 and 6 (at or just above the truth, &lt; 2×), while τ ≤ 0.875 lets
    /// the doubling run on to 16 or more. Blobs do not separate the values inside (0.875, 1]; we take 0.95, clear of
    /// the 0.875 plateau and of TEMI's ±1–2% noise on real data (spec §5.2: released CIFAR/FFHQ runs sit at
    /// 0.98–0.995 near the optimum; there τ = 0.95 gives 500 / ≥ 600 / 700 for CIFAR-10 / CIFAR-100 / FFHQ).
    /// </summary>
    public const double DefaultThreshold = 0.95;

    /// <summary>First K of the doubling (spec §5.2: K0). If K0 already fails, the search halves instead.</summary>
    public int K0 { get; init; } = 10;

    /// <summary>Growth factor of the doubling phase (spec §5.2: 2).</summary>
    public double Growth { get; init; } = 2;

    /// <summary>Utilisation threshold τ: K passes when r(K) = K_used/K ≥ τ.</summary>
    public double Threshold { get; init; } = DefaultThreshold;

    /// <summary>Extra K values tried, evenly spaced strictly between the last passing and the first failing K.</summary>
    public int GridPoints { get; init; } = 3;

    /// <summary>The doubling stops here (K_UB = the last passing K, flagged as capped).</summary>
    public int MaxK { get; init; } = 4096;

    /// <summary>β of the upper-bound runs (spec §5.2: 0.6).</summary>
    public double Beta { get; init; } = 0.6;

    /// <summary>Also run β = 1 at an over-estimated K; its K_used is the lower bound K_LB (spec §5.2 step 3).</summary>
    public bool Lower { get; init; }

    /// <summary>K of the β = 1 run; 0 means 2·K_UB (over-estimated by construction).</summary>
    public int LowerK { get; init; }

    /// <summary>TEMI settings of every run (β is overridden per run).</summary>
    public TemiOptions Temi { get; init; } = TemiOptions.CpuDefault();

    public int Seed { get; init; }

    public void Validate()
    {
        if (K0 < 1) throw new ArgumentException($"K0 must be ≥ 1, got {K0}.");
        if (!(Growth > 1)) throw new ArgumentException($"The growth factor must be > 1, got {Growth}.");
        if (!(Threshold > 0 && Threshold <= 1)) throw new ArgumentException($"The threshold τ must be in (0, 1], got {Threshold}.");
        if (GridPoints < 0) throw new ArgumentException($"Grid points must be ≥ 0, got {GridPoints}.");
        if (MaxK < K0) throw new ArgumentException($"Max K ({MaxK}) must be ≥ K0 ({K0}).");
        if (!(Beta > 0 && Beta <= 1)) throw new ArgumentException($"β must be in (0, 1], got {Beta}.");
        if (LowerK < 0) throw new ArgumentException($"The lower-bound K must be ≥ 0, got {LowerK}.");
        Temi.Validate();
    }
}
