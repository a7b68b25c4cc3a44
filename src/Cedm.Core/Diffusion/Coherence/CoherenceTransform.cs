namespace Cedm.Diffusion.Coherence;

/// <summary>
/// CAD's pre-processing of coherence scores (related-seeds C.3), fitted on the training scores:
/// <list type="bullet">
/// <item><c>raw</c>: c unchanged.</item>
/// <item><c>bin</c>: B + 1 edges e_j = quantile(j/B) of the scores (linear interpolation, NumPy's default), then
/// e_0 := 0 and e_B := 1; c ↦ b/(B − 1) with b = #{j ∈ 1…B−1 : e_j &lt; c} (a score equal to an edge goes to the lower
/// bucket, as a left bucketize does), so the levels are {0, 1/(B−1), …, 1}.</item>
/// <item><c>minmax</c>: lo = quantile(q_lo), hi = quantile(q_hi); c ↦ clamp((c − lo)/(hi − lo), 0, 1).</item>
/// </list>
/// When the scores carry no spread for <c>bin</c> or <c>minmax</c> (every cluster confidence 1, say), the fit is
/// <see cref="Constant"/>: every image gets coherence 1, i.e. plain conditioning, and <see cref="Warning"/> says so,
/// rather than refusing a run whose scores simply hold no information.
/// Quantiles use at most <see cref="MaxFitScores"/> scores (C.3: "up to 1e5"), an evenly strided subset beyond that.
/// </summary>
public sealed record CoherenceTransform
{
    public const int MaxFitScores = 100_000;

    public required string Mode { get; init; }

    /// <summary>The mode of a fit on scores without spread: every processed score is 1.</summary>
    public const string Constant = "constant";

    /// <summary>Why the fit fell back to <see cref="Constant"/>, else null.</summary>
    public string? Warning { get; init; }

    /// <summary>The B + 1 bin edges of <c>bin</c> (first 0, last 1), else null.</summary>
    public IReadOnlyList<double>? Edges { get; init; }

    /// <summary>lo and hi of <c>minmax</c>, else null.</summary>
    public double? Low { get; init; }

    public double? High { get; init; }

    public static CoherenceTransform Fit(IReadOnlyList<float> scores, CoherenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (scores.Count == 0) throw new ArgumentException("No coherence scores to fit.");
        switch (options.Mode)
        {
            case CoherenceOptions.Raw:
                return new CoherenceTransform { Mode = CoherenceOptions.Raw };
            case CoherenceOptions.Bin:
            {
                var sorted = SortedSubset(scores);
                if (sorted[0] == sorted[^1])
                    return new CoherenceTransform { Mode = Constant, Warning = $"coherence mode bin: every score is {sorted[0]}, so quantile bins carry no information; every image gets coherence 1 (plain conditioning)" };
                int b = options.Bins;
                var edges = new double[b + 1];
                for (int j = 0; j <= b; j++) edges[j] = Quantile(sorted, (double)j / b);
                edges[0] = 0;
                edges[b] = 1;
                return new CoherenceTransform { Mode = CoherenceOptions.Bin, Edges = edges };
            }
            default:
            {
                var sorted = SortedSubset(scores);
                double lo = Quantile(sorted, options.QuantileLow), hi = Quantile(sorted, options.QuantileHigh);
                if (!(hi > lo))
                    return new CoherenceTransform { Mode = Constant, Warning = $"coherence mode minmax: the {options.QuantileLow} and {options.QuantileHigh} quantiles are both {lo}; nothing to rescale, so every image gets coherence 1 (plain conditioning)" };
                return new CoherenceTransform { Mode = CoherenceOptions.MinMax, Low = lo, High = hi };
            }
        }
    }

    /// <summary>The pre-processed value of one raw score.</summary>
    public float Apply(float c)
    {
        switch (Mode)
        {
            case CoherenceOptions.Raw:
                return c;
            case Constant:
                return 1f;
            case CoherenceOptions.Bin:
            {
                var e = Edges!;
                int b = 0;
                for (int j = 1; j < e.Count - 1; j++) if (e[j] < c) b++;
                return (float)b / (e.Count - 2);
            }
            default:
                return (float)Math.Clamp((c - Low!.Value) / (High!.Value - Low.Value), 0, 1);
        }
    }

    public float[] Apply(IReadOnlyList<float> scores) => scores.Select(Apply).ToArray();

    /// <summary>The q-quantile of sorted values with linear interpolation between order statistics (NumPy "linear").</summary>
    public static double Quantile(IReadOnlyList<float> sorted, double q)
    {
        if (sorted.Count == 0) throw new ArgumentException("Quantile of no values.");
        double pos = Math.Clamp(q, 0, 1) * (sorted.Count - 1);
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, sorted.Count - 1);
        return sorted[lo] + (pos - lo) * ((double)sorted[hi] - sorted[lo]);
    }

    private static float[] SortedSubset(IReadOnlyList<float> scores)
    {
        int n = scores.Count, m = Math.Min(n, MaxFitScores);
        var subset = new float[m];
        for (int i = 0; i < m; i++) subset[i] = scores[(int)((long)i * n / m)];
        Array.Sort(subset);
        return subset;
    }
}
