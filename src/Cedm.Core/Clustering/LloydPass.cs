using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Cedm.Tensors;
using Cedm.Tensors.Kernels;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Cedm.Clustering;

/// <summary>
/// One Lloyd iteration with a single read of X per row block (sklearn's chunked Lloyd does the same): per block of
/// <see cref="Distances.BlockRows"/> rows one GEMM gives −2x·c [rows, K], then, rows split over threads, each row takes
/// its argmin label and squared distance and adds itself (widened to float64) into its cluster's running sum. The old
/// assign-then-update pair read X twice and spent more time in per-row library calls on 10-float rows than in the GEMM.
/// <para>Rows of each block are split into a fixed number of parts ("tasks", independent of the thread count), each
/// with its own float64 sums, reduced in task order: the result is the same for any thread count.</para>
/// </summary>
internal static class LloydPass
{
    /// <summary>Below this K the argmin is one scalar loop (fused with the ‖c‖² add); above, two vectorised calls win.</summary>
    private const int ScalarArgMinBelowK = 32;

    /// <summary>Per-task float64 sums are K·D each; all tasks together stay under this many doubles (16 MB).</summary>
    private const long MaxSumElements = 2L << 20;

    private const int MaxTasks = 8;

    /// <summary>
    /// labels/minDist from the centres; when <paramref name="sums"/> is given also the per-cluster float64 sums [K·D] and
    /// counts [K] (overwritten). Returns how many labels differ from what <paramref name="labels"/> held before.
    /// </summary>
    public static long Run(float[] x, float[] xNorms, int n, int d, float[] centers, int k, int[] labels, float[] minDist,
        double[]? sums, long[]? counts)
    {
        var cNorms = Distances.RowSquaredNorms(centers, k, d);
        int block = Math.Min(n, Distances.BlockRows);
        int tasks = (int)Math.Clamp(MaxSumElements / Math.Max(1L, (long)k * d), 1, MaxTasks);
        var taskSums = new double[tasks][];
        var taskCounts = new long[tasks][];
        if (sums is not null)
            for (int t = 0; t < tasks; t++) { taskSums[t] = new double[k * d]; taskCounts[t] = new long[k]; }
        var changed = new long[tasks];
        var dist = new float[block * k];
        for (int start = 0; start < n; start += block)
        {
            int rows = Math.Min(block, n - start), s0 = start;
            Gemm.Sgemm(false, true, rows, k, d, -2f, x.AsSpan(start * d, rows * d), d, centers, d, 0f, dist, k);
            int parallel = rows >= 1024 ? tasks : 1;
            Parallel.For(0, tasks, new ParallelOptions { MaxDegreeOfParallelism = Math.Min(parallel, EnginePolicy.Current.Threads) }, t =>
            {
                int r0 = (int)((long)rows * t / tasks), r1 = (int)((long)rows * (t + 1) / tasks);
                double[]? s = sums is null ? null : taskSums[t];
                long[]? c = sums is null ? null : taskCounts[t];
                long ch = 0;
                for (int r = r0; r < r1; r++)
                {
                    int i = s0 + r;
                    var row = dist.AsSpan(r * k, k);
                    int a;
                    float best;
                    if (k < ScalarArgMinBelowK)
                    {
                        a = 0;
                        best = row[0] + cNorms[0];
                        for (int j = 1; j < k; j++)
                        {
                            float v = row[j] + cNorms[j];
                            if (v < best) { best = v; a = j; } // strict: the first minimum wins, as IndexOfMin
                        }
                    }
                    else
                    {
                        TensorPrimitives.Add(row, cNorms, row);
                        a = TensorPrimitives.IndexOfMin(row);
                        best = row[a];
                    }
                    if (labels[i] != a) { ch++; labels[i] = a; }
                    minDist[i] = Math.Max(0f, best + xNorms[i]);
                    if (s is not null)
                    {
                        c![a]++;
                        AddWidened(x.AsSpan(i * d, d), s.AsSpan(a * d, d));
                    }
                }
                changed[t] += ch;
            });
        }

        if (sums is not null)
        {
            Array.Clear(sums);
            Array.Clear(counts!);
            for (int t = 0; t < tasks; t++)
            {
                TensorPrimitives.Add(sums, taskSums[t], sums);
                for (int j = 0; j < k; j++) counts![j] += taskCounts[t][j];
            }
        }
        return changed.Sum();
    }

    /// <summary>dst += (double)src, eight floats at a time (TensorPrimitives has no mixed-precision add).</summary>
    private static void AddWidened(ReadOnlySpan<float> src, Span<double> dst)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float s = ref MemoryMarshal.GetReference(src);
            ref double t = ref MemoryMarshal.GetReference(dst);
            for (; i + 8 <= src.Length; i += 8)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref s, (nuint)i));
                (Vector256.LoadUnsafe(ref t, (nuint)i) + lo).StoreUnsafe(ref t, (nuint)i);
                (Vector256.LoadUnsafe(ref t, (nuint)(i + 4)) + hi).StoreUnsafe(ref t, (nuint)(i + 4));
            }
        }
        for (; i < src.Length; i++) dst[i] += src[i];
    }
}
