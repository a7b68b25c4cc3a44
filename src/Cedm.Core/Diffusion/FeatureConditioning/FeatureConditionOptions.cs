namespace Cedm.Diffusion.FeatureConditioning;

/// <summary>
/// A feature-conditioned run's settings (`cedm train --cond features:&lt;npy&gt;|gmm:&lt;dir&gt;`, docs/feature-conditioning.md;
/// related-seeds B.3, our design). Defaults: d = 32 (the low end of B.3's 32–128, cheap on CPU), a rank-8 plus diagonal
/// covariance with shrinkage 0.1 (a cluster of a few hundred images cannot support a full 32×32 covariance), draws at
/// temperature 1 (the fitted spread itself).
/// </summary>
public sealed record FeatureConditionOptions
{
    public static readonly string[] Modes = ["centroid", "draw", "own"];
    public static readonly string[] Assignments = ["auto", "hard", "soft"];

    /// <summary>
    /// What a training image is conditioned on (B.3 item 2): centroid = μ of its cluster (a one-hot id in disguise),
    /// draw = a fresh z ~ N(μ_k, s²Σ_k) every step, own = its own whitened feature. `features:` runs are always "own".
    /// </summary>
    public string Mode { get; init; } = "draw";

    /// <summary>Whitened dimension d (PCA of the features, B.3 item 1); at most the feature dimension.</summary>
    public int Dim { get; init; } = 32;

    /// <summary>Rank r of each component's covariance factor (0 = diagonal; capped at <see cref="Dim"/>, where it is the full covariance).</summary>
    public int Rank { get; init; } = 8;

    /// <summary>Shrinkage λ toward (tr S/d)·I.</summary>
    public double Shrinkage { get; init; } = 0.1;

    /// <summary>Training temperature s of the draw mode (z ~ N(μ_k, s²Σ_k)).</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>
    /// Responsibilities of the fit: hard = the cluster ids (k-means), soft = probs.npy (GMM responsibilities, TEMI soft
    /// assignments), auto = soft when the cluster folder has probs.npy.
    /// </summary>
    public string Assign { get; init; } = "auto";

    /// <summary>The features file of a gmm: run; null = the one the clustering was made from (its options.json).</summary>
    public string? Features { get; init; }

    public void Validate()
    {
        if (!Modes.Contains(Mode)) throw new SettingException("GmmMode", $"expected {string.Join(", ", Modes)}, got '{Mode}'");
        if (!Assignments.Contains(Assign)) throw new SettingException("GmmAssign", $"expected {string.Join(", ", Assignments)}, got '{Assign}'");
        if (Dim < 1) throw new SettingException("FeatureDim", $"must be at least 1, got {Dim}");
        if (Rank < 0) throw new SettingException("GmmRank", $"must be at least 0, got {Rank}");
        if (!(Shrinkage >= 0 && Shrinkage <= 1)) throw new SettingException("GmmShrinkage", $"must be in [0, 1], got {Shrinkage}");
        if (!(Temperature > 0 && Temperature <= 1)) throw new SettingException("GmmTemperature", $"must be in (0, 1], got {Temperature}");
    }
}
