namespace Cedm.Tensors.Kernels;

// How the conv drivers hand samples to workers (see ConvThreading for the GEMM side).
internal static partial class Conv2dKernels
{
    /// <summary>
    /// Samples are processed in this many fixed chunks (fewer when N is smaller): enough for dynamic load
    /// balancing over 2–8 workers, and a fixed partition so weight-gradient sums are reproducible whatever the
    /// thread count or scheduling.
    /// </summary>
    private const int MaxChunks = 16;

    private static int ChunkCount(int n) => Math.Min(n, MaxChunks);

    /// <summary>
    /// Chunks when samples are processed in groups of <paramref name="group"/> (Winograd on small images): each
    /// chunk should hold at least one whole group, so there are at most ⌈N/group⌉ chunks.
    /// </summary>
    private static int ChunkCount(int n, int group) => Math.Min(ChunkCount(n), (n + group - 1) / Math.Max(1, group));

    /// <summary>Hands out chunk c = samples [c·N/chunks, (c+1)·N/chunks) to workers, one at a time (thread-safe).</summary>
    private sealed class SampleQueue(int samples, int chunks)
    {
        private readonly int _chunks = chunks;
        private int _next = -1;

        public bool TryNext(out int chunk, out int n0, out int n1)
        {
            chunk = Interlocked.Increment(ref _next);
            n0 = (int)((long)samples * chunk / Math.Max(1, _chunks));
            n1 = (int)((long)samples * (chunk + 1) / Math.Max(1, _chunks));
            return chunk < _chunks;
        }
    }

    /// <summary>
    /// Runs one body per worker; each claims chunks of samples from a shared queue until none are left, so
    /// both cores stay busy when one is preempted (a shared machine); each body rents its buffers once.
    /// Serial mode or small work runs a single body inline.
    /// </summary>
    private static void ForSamples(in Conv2dGeometry g, ConvThreading mode, Action<SampleQueue> body, int? chunks = null)
    {
        int n = g.N;
        if (n == 0) return;
        int c = chunks ?? ChunkCount(n);
        var queue = new SampleQueue(n, c);
        long work = (long)g.Cout * g.ColRows * g.OutPixels;
        int workers = mode == ConvThreading.SerialSamples ? 1 : Math.Min(EnginePolicy.Current.Threads, c);
        if (workers <= 1 || n * work < Parallelism.MinParallelElements * 4)
        {
            body(queue);
            return;
        }
        Parallel.For(0, workers, EnginePolicy.Current.ParallelOptions, _ => body(queue));
    }
}
