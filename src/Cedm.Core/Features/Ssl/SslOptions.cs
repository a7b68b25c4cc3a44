namespace Cedm.Features.Ssl;

/// <summary>
/// Augmentations of the two SimCLR views (Chen et al. 2020, adapted to small grey images: no colour jitter or blur,
/// instead intensity jitter and Gaussian noise). Defaults: random resized crop of 30–100 % of the area with aspect
/// 3/4–4/3, horizontal flip with p = 0.5, contrast ×[0.6, 1.4] and brightness ±0.2 (in [0, 1] units) with p = 0.8,
/// Gaussian noise σ ∈ U(0, 0.1) with p = 0.5.
/// </summary>
public sealed record SslAugmentOptions(
    double MinScale = 0.3, double MaxScale = 1.0, double MinRatio = 3.0 / 4, double MaxRatio = 4.0 / 3,
    double FlipProbability = 0.5,
    double JitterProbability = 0.8, double Contrast = 0.4, double Brightness = 0.2,
    double NoiseProbability = 0.5, double MaxNoise = 0.1);

/// <summary>
/// SimCLR training of <see cref="SslEncoder"/> on the source itself. Time-budgeted: training stops after
/// <see cref="Minutes"/> (or <see cref="MaxSteps"/>, whichever comes first); the learning rate warms up linearly
/// over the first 5 % of the budget then follows a cosine to zero over it. NT-Xent temperature 0.5 (SimCLR's
/// CIFAR-10 setting), batch 256 images (512 views), Adam lr 1e-3 (weight decay 1e-6 as in SimCLR's small runs).
/// The default budget (8 minutes) keeps `cedm features fashion-mnist --extractor ssl` (training plus extracting
/// 60k images) under 15 minutes on two cores; <see cref="Quick"/> is a smoke-test budget.
/// </summary>
public sealed record SslOptions
{
    public const double DefaultMinutes = 8;
    public const double QuickMinutes = 0.25;

    public double Minutes { get; init; } = DefaultMinutes;
    public int? MaxSteps { get; init; }
    public int BatchSize { get; init; } = 256;
    public double Lr { get; init; } = 1e-3;
    public double WeightDecay { get; init; } = 1e-6;
    public double Temperature { get; init; } = 0.5;
    public double WarmupFraction { get; init; } = 0.05;
    public int ProjectionDimension { get; init; } = 128;
    public int Seed { get; init; }
    public SslAugmentOptions Augment { get; init; } = new();

    /// <summary>Smoke-test budget: at most 20 steps of 64 images or <see cref="QuickMinutes"/>, whichever ends first.</summary>
    public static SslOptions Quick(int seed = 0) => new() { Minutes = QuickMinutes, MaxSteps = 20, BatchSize = 64, Seed = seed };

    public void Validate()
    {
        if (!(Minutes > 0)) throw new ArgumentException($"ssl: minutes must be positive, got {Minutes}");
        if (MaxSteps is < 1) throw new ArgumentException($"ssl: max steps must be at least 1, got {MaxSteps}");
        if (BatchSize < 2) throw new ArgumentException($"ssl: batch size must be at least 2, got {BatchSize}");
        if (!(Temperature > 0)) throw new ArgumentException($"ssl: temperature must be positive, got {Temperature}");
        if (!(Lr > 0)) throw new ArgumentException($"ssl: learning rate must be positive, got {Lr}");
    }
}
