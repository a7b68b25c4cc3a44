namespace Cedm.Metrics;

/// <summary>
/// The realism score of each generated sample (Kynkäänniemi et al. 2019, "Improved precision and recall", §5): with
/// r_k(φ_r) the distance of a real vector to its k-th nearest real neighbour, R(φ_g) = max over real φ_r of
/// r_k(φ_r) / ‖φ_g − φ_r‖. R ≥ 1 exactly when φ_g lies inside some real k-NN ball (the precision criterion); small R
/// marks a sample far from every real image, the defective generations a per-sample view should surface. Real balls
/// above the median radius are left out, so a few outliers' huge balls cannot make every sample look real.
/// </summary>
public static class RealismScore
{
    /// <summary>R of a sample that coincides with a kept real vector (R would be infinite; JSON has no infinity).</summary>
    public const double Cap = 1e6;

    /// <summary>R of every fake row [nFake, D] against the real rows [nReal, D], at most <see cref="Cap"/>.</summary>
    public static double[] Compute(ReadOnlySpan<float> real, int nReal, ReadOnlySpan<float> fake, int nFake, int d, int k = PrecisionRecall.DefaultK)
    {
        if (real.Length != (long)nReal * d || fake.Length != (long)nFake * d)
            throw new ArgumentException($"Feature shapes do not match D = {d}: {real.Length} and {fake.Length} values.");
        if (nReal <= k) throw new ArgumentException($"the realism score needs more than k = {k} real vectors, got {nReal}");
        var r = PrecisionRecall.ToDouble(real);
        var radius = PairwiseDistances.KthNeighbourSquared(r, nReal, d, k);
        double median = Median(radius);
        var kept = Enumerable.Range(0, nReal).Where(j => radius[j] <= median).ToArray();
        var keptRows = new double[kept.Length * d];
        var keptRadius = new double[kept.Length];
        for (int i = 0; i < kept.Length; i++)
        {
            Array.Copy(r, (long)kept[i] * d, keptRows, (long)i * d, d);
            keptRadius[i] = radius[kept[i]];
        }
        var scores = new double[nFake];
        PairwiseDistances.SquaredBlocks(PrecisionRecall.ToDouble(fake), nFake, keptRows, kept.Length, d, (start, n, block) =>
        {
            for (int i = 0; i < n; i++)
            {
                double best = 0;
                for (int j = 0; j < kept.Length; j++)
                {
                    double dist = block[(long)i * kept.Length + j];
                    best = Math.Max(best, dist > 0 ? keptRadius[j] / dist : double.PositiveInfinity);
                }
                scores[start + i] = Math.Min(Math.Sqrt(best), Cap);   // ratio of squared distances → ratio of distances
            }
        });
        return scores;
    }

    /// <summary>The indices of the <paramref name="count"/> lowest scores, lowest first (ties: the lower index).</summary>
    public static int[] Worst(IReadOnlyList<double> scores, int count) =>
        Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ThenBy(i => i).Take(count).ToArray();

    /// <summary>The median of <paramref name="v"/> (the mean of the middle two for an even count).</summary>
    public static double Median(double[] v)
    {
        var sorted = (double[])v.Clone();
        Array.Sort(sorted);
        int m = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[m] : 0.5 * (sorted[m - 1] + sorted[m]);
    }
}
