using Cedm.Tensors;

namespace Cedm.Metrics;

/// <summary>Improved precision/recall (Kynkäänniemi et al. 2019) and density/coverage (Naeem et al. 2020).</summary>
public sealed record PrdcResult(double Precision, double Recall, double Density, double Coverage, int K, int RealCount, int FakeCount);

/// <summary>
/// Precision, recall, density and coverage with k-NN balls in feature space (spec §6.3, dgm-eval defaults:
/// k = 5, at most 10 000 random real and fake vectors). r_k(x) is the distance to the k-th nearest neighbour in
/// x's own set, itself excluded; all comparisons are strict (d &lt; r_k). Distances in float64, blocked GEMM.
/// </summary>
public static class PrecisionRecall
{
    public const int DefaultK = 5;
    public const int DefaultMaxPerSide = 10_000;

    /// <summary>PRDC of real rows [nReal, D] and fake rows [nFake, D], all rows used.</summary>
    public static PrdcResult Compute(ReadOnlySpan<float> real, int nReal, ReadOnlySpan<float> fake, int nFake, int d, int k = DefaultK)
    {
        if (real.Length != (long)nReal * d || fake.Length != (long)nFake * d)
            throw new ArgumentException($"Feature shapes do not match D = {d}: {real.Length} and {fake.Length} values.");
        var r = ToDouble(real);
        var f = ToDouble(fake);
        var radiusReal = PairwiseDistances.KthNeighbourSquared(r, nReal, d, k);
        var radiusFake = PairwiseDistances.KthNeighbourSquared(f, nFake, d, k);

        // Pass over fake rows: precision (inside some real ball) and density (how many real balls).
        long insideBalls = 0, precise = 0;
        PairwiseDistances.SquaredBlocks(f, nFake, r, nReal, d, (start, n, block) =>
        {
            for (int i = 0; i < n; i++)
            {
                int count = 0;
                for (int j = 0; j < nReal; j++)
                    if (block[(long)i * nReal + j] < radiusReal[j]) count++;
                insideBalls += count;
                if (count > 0) precise++;
            }
        });
        // Pass over real rows: recall (inside some fake ball) and coverage (nearest fake inside own ball).
        long recalled = 0, covered = 0;
        PairwiseDistances.SquaredBlocks(r, nReal, f, nFake, d, (start, n, block) =>
        {
            for (int i = 0; i < n; i++)
            {
                bool inFakeBall = false;
                double nearest = double.PositiveInfinity;
                for (int j = 0; j < nFake; j++)
                {
                    double v = block[(long)i * nFake + j];
                    if (v < radiusFake[j]) inFakeBall = true;
                    if (v < nearest) nearest = v;
                }
                if (inFakeBall) recalled++;
                if (nearest < radiusReal[start + i]) covered++;
            }
        });
        return new PrdcResult((double)precise / nFake, (double)recalled / nReal, (double)insideBalls / ((double)k * nFake),
            (double)covered / nReal, k, nReal, nFake);
    }

    /// <summary>PRDC on random subsets of at most <paramref name="maxPerSide"/> rows per side (seeded by <paramref name="rng"/>).</summary>
    public static PrdcResult ComputeSubsampled(ReadOnlySpan<float> real, int nReal, ReadOnlySpan<float> fake, int nFake, int d,
        Rng rng, int k = DefaultK, int maxPerSide = DefaultMaxPerSide)
    {
        var ri = Subsets.AtMost(nReal, maxPerSide, rng);
        var fi = Subsets.AtMost(nFake, maxPerSide, rng);
        var rs = new float[ri.Length * d];
        var fs = new float[fi.Length * d];
        Subsets.GatherRows(real, d, ri, rs);
        Subsets.GatherRows(fake, d, fi, fs);
        return Compute(rs, ri.Length, fs, fi.Length, d, k);
    }

    internal static double[] ToDouble(ReadOnlySpan<float> v)
    {
        var r = new double[v.Length];
        for (int i = 0; i < v.Length; i++) r[i] = v[i];
        return r;
    }
}
