namespace Cedm.Clustering;

/// <summary>
/// k-means (Lloyd) options, sklearn's KMeans defaults unless noted.
/// <para><b>NInit = 1</b>: sklearn (≥ 1.4) uses n_init="auto", i.e. one run for k-means++ initialisation, because the
/// greedy k-means++ seeding already lands near good optima; more restarts cost time linearly and change inertia by
/// well under 1 % on real features (see the clustering benchmark). Raise it for small, hard problems.</para>
/// <para><b>Tol</b> is relative: the run stops when Σ_k ‖c_k^new − c_k^old‖² ≤ Tol · mean_d Var(X[:, d]) (as sklearn),
/// or when no label changed.</para>
/// <para><b>Cosine</b>: rows are L2-normalised first and Euclidean k-means runs on the unit sphere (‖x − c‖² is then
/// 2 − 2 cos for unit c), the usual "cosine k-means" on SSL features.</para>
/// <para><b>Confidence</b> (k-means is hard, so no probs.npy): max_j softmax_j(−‖x − c_j‖² / T) with
/// T = Temperature when set, otherwise T = inertia / N, the mean squared distance to the assigned centroid, which makes the
/// confidence invariant to the scale of the features.</para>
/// </summary>
public sealed record KMeansOptions
{
    public int K { get; init; } = 8;
    public int NInit { get; init; } = 1;

    /// <summary>The most restarts accepted.</summary>
    public const int MaxNInit = 10_000;
    public int MaxIter { get; init; } = 300;
    public double Tol { get; init; } = 1e-4;
    public bool Cosine { get; init; }

    /// <summary>Softmax temperature for the confidence; null = inertia / N (scale-free).</summary>
    public double? Temperature { get; init; }

    public void Validate()
    {
        if (K < 1) throw new SettingException(nameof(K), $"must be at least 1, got {K}");
        // sklearn has no upper limit; beyond 10 000 restarts a typo is likelier than an intent, and the run would take days.
        if (NInit is < 1 or > MaxNInit) throw new SettingException(nameof(NInit), $"must be between 1 and {MaxNInit}, got {NInit}");
        if (MaxIter < 1) throw new SettingException(nameof(MaxIter), $"must be at least 1, got {MaxIter}");
        if (!(Tol >= 0) || double.IsInfinity(Tol)) throw new SettingException(nameof(Tol), $"must be a finite number ≥ 0, got {Tol}");
        if (Temperature is { } t && !(t > 0 && double.IsFinite(t))) throw new SettingException(nameof(Temperature), $"must be > 0, got {t}");
    }
}
