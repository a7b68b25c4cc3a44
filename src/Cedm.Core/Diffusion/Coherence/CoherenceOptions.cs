namespace Cedm.Diffusion.Coherence;

/// <summary>
/// How a training run obtains and pre-processes its coherence scores (related-seeds C.2, C.3, D.1); saved in the
/// run's config.json. <see cref="Source"/> is a score kind computed from the `cedm cluster` folder the run is
/// conditioned on, or a user .npy file of N scores in [0, 1].
/// <para>Default pre-processing: CAD's <b>quantile bins with B = 10</b> (C.3, the class configs' B; D.1's choice).
/// CAD's class configs default to raw scores, but cluster confidences are far from uniform (k-means'
/// distance-softmax piles up near 1, TEMI's max-probability depends on its temperature): quantile bins make the
/// levels scale-free and equally populated, so c = 0.5 means "median coherence" whatever the clustering.</para>
/// </summary>
public sealed record CoherenceOptions
{
    public const string MaxProb = "maxprob", Entropy = "entropy", Confidence = "confidence";
    public const string Raw = "raw", Bin = "bin", MinMax = "minmax";

    /// <summary>The score kinds computed from a cluster folder.</summary>
    public static readonly IReadOnlyList<string> Kinds = [MaxProb, Entropy, Confidence];

    /// <summary>The pre-processing modes (C.3).</summary>
    public static readonly IReadOnlyList<string> Modes = [Raw, Bin, MinMax];

    /// <summary>
    /// <c>maxprob</c> (max_k q(k|x): the probs.npy row maximum; k-means, which saves no probabilities, falls back to its
    /// distance-softmax confidence), <c>entropy</c> (1 − H(q)/ln K from probs.npy), <c>confidence</c> (confidence.npy as
    /// saved: GMM/TEMI max responsibility, k-means distance-softmax) or the path of a .npy file.
    /// </summary>
    public string Source { get; init; } = MaxProb;

    /// <summary><c>raw</c>, <c>bin</c> (quantile bins) or <c>minmax</c> (clip to quantiles, rescale) — C.3.</summary>
    public string Mode { get; init; } = Bin;

    /// <summary>B, the number of quantile bins of <c>bin</c> (CAD class configs: 10; text configs: 8); levels i/(B−1).</summary>
    public int Bins { get; init; } = 10;

    /// <summary>q_lo of <c>minmax</c>: scores at or below this quantile map to 0 (CAD's "margined" variant: 0.1).</summary>
    public double QuantileLow { get; init; } = 0.1;

    /// <summary>q_hi of <c>minmax</c>: scores at or above this quantile map to 1 (CAD's "margined" variant: 0.9).</summary>
    public double QuantileHigh { get; init; } = 0.9;

    /// <summary>True when <see cref="Source"/> names one of <see cref="Kinds"/> rather than a file.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsKind => Kinds.Contains(Source);

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Source)) throw new ArgumentException($"give maxprob, entropy, confidence or a .npy file", "Coherence");
        if (!IsKind && !Source.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"expected maxprob, entropy, confidence or a .npy file, got '{Source}'", "Coherence");
        if (!Modes.Contains(Mode)) throw new ArgumentException($"expected raw, bin or minmax, got '{Mode}'", "CoherenceMode");
        if (Bins is < 2 or > 1000) throw new ArgumentException($"must be between 2 and 1000, got {Bins}", "CoherenceBins");
        if (!(QuantileLow >= 0 && QuantileLow < QuantileHigh && QuantileHigh <= 1))
            throw new ArgumentException($"need 0 ≤ lo < hi ≤ 1, got {QuantileLow} and {QuantileHigh}", "CoherenceQuantiles");
    }
}
