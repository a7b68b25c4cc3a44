using System.Numerics.Tensors;
using Cedm.Tensors;
using Cedm.Tensors.Kernels;

namespace Cedm.Clustering;

/// <summary>
/// Greedy k-means++ seeding (Arthur &amp; Vassilvitskii 2007, with the greedy local trials sklearn uses): each new centre
/// is the best of 2 + ⌊ln K⌋ candidates drawn with probability ∝ D(x)², "best" = lowest resulting potential Σ D².
/// Candidate-to-point distances come from one GEMM [trials, D] × [D, N] per centre.
/// </summary>
internal static class KMeansPlusPlus
{
    public static float[] Seed(float[] x, float[] xNorms, int n, int d, int k, Rng rng)
    {
        var centers = new float[k * d];
        int trials = 2 + (int)Math.Log(k);
        int first = rng.NextInt(n);
        x.AsSpan(first * d, d).CopyTo(centers);

        var closest = new float[n];
        var candDist = new float[trials * n];
        var cand = new float[trials * d];
        DistancesToRows(x, xNorms, n, d, [first], cand, candDist);
        candDist.AsSpan(0, n).CopyTo(closest);
        double potential = Sum(closest);
        var cumulative = new double[n];
        var candIds = new int[trials];
        var candPot = new double[trials];

        for (int c = 1; c < k; c++)
        {
            double acc = 0;
            for (int i = 0; i < n; i++) { acc += closest[i]; cumulative[i] = acc; }
            for (int t = 0; t < trials; t++)
            {
                double r = rng.NextDouble() * acc;
                int idx = Array.BinarySearch(cumulative, r);
                if (idx < 0) idx = ~idx;
                candIds[t] = Math.Min(idx, n - 1);
            }
            DistancesToRows(x, xNorms, n, d, candIds, cand, candDist);
            // D² after adding candidate t = min(closest, dist_t); its potential decides.
            Parallelism.ForEach(trials, n, t =>
            {
                var row = candDist.AsSpan(t * n, n);
                TensorPrimitives.Min(row, closest, row);
                candPot[t] = Sum(row);
            });
            int best = 0;
            for (int t = 1; t < trials; t++) if (candPot[t] < candPot[best]) best = t;
            potential = candPot[best];
            candDist.AsSpan(best * n, n).CopyTo(closest);
            x.AsSpan(candIds[best] * d, d).CopyTo(centers.AsSpan(c * d, d));
        }
        _ = potential;
        return centers;
    }

    /// <summary>out[t, i] = ‖x_i − x_{rows[t]}‖² (clamped at 0).</summary>
    private static void DistancesToRows(float[] x, float[] xNorms, int n, int d, int[] rows, float[] cand, float[] result)
    {
        int t = rows.Length;
        for (int j = 0; j < t; j++) x.AsSpan(rows[j] * d, d).CopyTo(cand.AsSpan(j * d, d));
        Gemm.Sgemm(false, true, t, n, d, -2f, cand.AsSpan(0, t * d), d, x, d, 0f, result.AsSpan(0, t * n), n);
        Parallelism.ForEach(t, n, j =>
        {
            var row = result.AsSpan(j * n, n);
            TensorPrimitives.Add(row, xNorms, row);
            TensorPrimitives.Add(row, xNorms[rows[j]], row);
            TensorPrimitives.Max(row, 0f, row);
        });
    }

    private static double Sum(ReadOnlySpan<float> v)
    {
        // Pairwise-ish: float chunks of 1024 summed in double keep the potential accurate for large N.
        double s = 0;
        for (int i = 0; i < v.Length; i += 1024) s += TensorPrimitives.Sum(v.Slice(i, Math.Min(1024, v.Length - i)));
        return s;
    }
}
