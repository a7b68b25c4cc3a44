namespace Cedm.Clustering;

public enum CovarianceType
{
    /// <summary>One full D×D covariance per component.</summary>
    Full,

    /// <summary>One diagonal covariance (D variances) per component.</summary>
    Diag,
}

/// <summary>
/// Gaussian mixture (EM) options, sklearn's GaussianMixture defaults: Tol 1e-3 on the change of the mean per-sample
/// log-likelihood (the EM lower bound) between iterations, RegCovar 1e-6 added to every covariance diagonal, MaxIter 100,
/// one initialisation from k-means (n_init 1, k-means++ seeding).
/// </summary>
public sealed record GaussianMixtureOptions
{
    public int K { get; init; } = 1;
    public CovarianceType Covariance { get; init; } = CovarianceType.Full;
    public int MaxIter { get; init; } = 100;
    public double Tol { get; init; } = 1e-3;
    public double RegCovar { get; init; } = 1e-6;
    public int NInit { get; init; } = 1;

    public void Validate()
    {
        if (K < 1) throw new SettingException(nameof(K), $"must be at least 1, got {K}");
        if (NInit is < 1 or > KMeansOptions.MaxNInit) throw new SettingException(nameof(NInit), $"must be between 1 and {KMeansOptions.MaxNInit}, got {NInit}");
        if (MaxIter < 1) throw new SettingException(nameof(MaxIter), $"must be at least 1, got {MaxIter}");
        if (!(Tol >= 0) || double.IsInfinity(Tol)) throw new SettingException(nameof(Tol), $"must be a finite number ≥ 0, got {Tol}");
        if (!(RegCovar >= 0) || double.IsInfinity(RegCovar)) throw new SettingException(nameof(RegCovar), $"must be ≥ 0, got {RegCovar}");
    }
}
