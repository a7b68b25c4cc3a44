namespace Cedm.Tensors.Kernels;

/// <summary>Splits element-wise work into chunks over <see cref="EnginePolicy.Threads"/> workers.</summary>
internal static class Parallelism
{
    /// <summary>Below this many elements a memory-bound loop is faster on one thread than split.</summary>
    public const int MinParallelElements = 1 << 16;

    /// <summary>Runs body(start, length) over [0, n) in contiguous chunks, in parallel when n is large.</summary>
    public static void For(int n, Action<int, int> body, int minChunk = MinParallelElements)
    {
        int workers = Math.Min(EnginePolicy.Current.Threads, Math.Max(1, n / Math.Max(1, minChunk)));
        if (workers <= 1) { body(0, n); return; }
        int chunk = (n + workers - 1) / workers;
        Parallel.For(0, workers, EnginePolicy.Current.ParallelOptions, w =>
        {
            int start = w * chunk, len = Math.Min(chunk, n - start);
            if (len > 0) body(start, len);
        });
    }

    /// <summary>Runs body(i) for i in [0, count) in parallel when the total work (count * workPerItem) is large.</summary>
    public static void ForEach(int count, long workPerItem, Action<int> body)
    {
        if (count <= 1 || EnginePolicy.Current.Threads == 1 || count * workPerItem < MinParallelElements)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        Parallel.For(0, count, EnginePolicy.Current.ParallelOptions, body);
    }
}
