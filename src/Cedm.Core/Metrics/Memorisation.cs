namespace Cedm.Metrics;

/// <summary>
/// A memorisation (novelty) check in a feature space. For each generated sample, the Euclidean distance to its
/// nearest training image; for each real held-out image (test split), the same distance. Held-out images were never
/// seen in training, so their nearest-training distances say how close a genuinely new image of the distribution
/// typically comes to the training set. <see cref="MemorisationResult.Share"/> is the fraction of samples whose distance
/// is below the <see cref="DefaultPercentile"/>-th percentile of the held-out distances: about percentile/100 (0.05) for
/// samples as novel as real new images, near 1 for a model that reproduces its training images. The real images must
/// not be training images themselves (then every held-out distance is 0 and nothing can be flagged).
/// </summary>
public static class Memorisation
{
    /// <summary>Percentile of the held-out images' nearest-training distances used as the "too close" threshold.</summary>
    public const double DefaultPercentile = 5;

    /// <summary>A share at or above this multiple of the expected share (percentile/100) is reported as memorisation.</summary>
    public const double FlagFactor = 2;

    /// <summary>
    /// A held-out image this close to a training image (relative to the median held-out distance) counts as a duplicate:
    /// distances come from |a|^2 + |b|^2 - 2ab, so an exact copy measures ~1e-7, not 0.
    /// </summary>
    public const double DuplicateFraction = 1e-3;

    public static MemorisationResult Compute(float[] train, int nTrain, float[] samples, int nSamples, float[] real, int nReal, int d,
        double percentile = DefaultPercentile)
    {
        if (nTrain < 1 || nSamples < 1 || nReal < 1) throw new ArgumentException("the memorisation check needs training images, samples and held-out images");
        if (percentile is <= 0 or >= 100) throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "expected a percentile in (0, 100)");
        var t = ToDouble(train);
        var (sampleDist, sampleNearest) = Nearest(ToDouble(samples), nSamples, t, nTrain, d);
        var (realDist, _) = Nearest(ToDouble(real), nReal, t, nTrain, d);
        var sortedReal = realDist.Order().ToArray();
        double threshold = Percentile(sortedReal, percentile);
        double share = sampleDist.Count(v => v < threshold) / (double)nSamples;
        double sampleMedian = Percentile(sampleDist.Order().ToArray(), 50), realMedian = Percentile(sortedReal, 50);
        return new MemorisationResult(share, threshold, percentile, sampleMedian, realMedian, sampleDist, sampleNearest,
            realDist.Count(v => v <= DuplicateFraction * realMedian), share >= FlagFactor * percentile / 100);
    }

    private static double[] ToDouble(float[] x) => Array.ConvertAll(x, v => (double)v);

    /// <summary>Euclidean distance and index of each row's nearest row of <paramref name="b"/>.</summary>
    private static (double[] Distance, int[] Index) Nearest(double[] a, int rowsA, double[] b, int rowsB, int d)
    {
        var dist = new double[rowsA];
        var index = new int[rowsA];
        PairwiseDistances.SquaredBlocks(a, rowsA, b, rowsB, d, (start, n, block) =>
        {
            for (int i = 0; i < n; i++)
            {
                var row = block.AsSpan((int)((long)i * rowsB), rowsB);
                int best = 0;
                for (int j = 1; j < rowsB; j++) if (row[j] < row[best]) best = j;
                dist[start + i] = Math.Sqrt(row[best]);
                index[start + i] = best;
            }
        });
        return (dist, index);
    }

    /// <summary>Linear interpolation between order statistics (numpy's default "linear" method).</summary>
    internal static double Percentile(double[] sorted, double p)
    {
        double pos = p / 100 * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}

/// <summary>
/// The outcome of <see cref="Memorisation.Compute"/>: the share of samples closer to a training image than the
/// <see cref="Percentile"/>-th percentile (<see cref="Threshold"/>) of held-out images are, the medians of both
/// nearest-training distance sets, each sample's distance and nearest training index, how many held-out images sit
/// at distance ~0 (duplicates of training images: a sign the "held-out" set is not), and whether the share is flagged.
/// </summary>
public sealed record MemorisationResult(double Share, double Threshold, double Percentile, double SampleMedian, double RealMedian,
    double[] SampleDistances, int[] SampleNearest, int RealDuplicates, bool Flagged);
