using System.Runtime.Intrinsics.X86;

namespace Cedm.Tensors.Kernels;

/// <summary>Which managed micro-kernel family runs (tests force the fallbacks through this).</summary>
internal enum ManagedKernel { Auto, Avx512, Avx2, Vector128 }

/// <summary>
/// The engine's own SIMD SGEMM, organised like Goto's / BLIS's algorithm:
/// <list type="bullet">
/// <item>C is split into one rectangle per worker thread; each worker runs the whole loop nest on its
/// rectangle with its own pack buffers, so threads never synchronise inside a call.</item>
/// <item>Loop over NC-wide column blocks of C, then KC-deep slices of k: a KC×NC block of op(B) is packed
/// once (it stays in L2/L3), then for each MC-tall row block an MC×KC block of op(A) is packed (sized for L2).</item>
/// <item>The macro-kernel walks NR-wide B micro-panels (a KC×NR sliver that stays in L1) against MR-tall
/// A micro-panels, and the register-blocked micro-kernel accumulates an MR×NR tile of C in registers
/// over the whole KC slice, so each C element is loaded/stored once per slice instead of once per k.</item>
/// </list>
/// Arguments are assumed validated by <see cref="Gemm"/> (k &gt; 0, alpha != 0, m, n &gt; 0).
/// </summary>
internal static unsafe partial class GemmManaged
{
    /// <summary>Below this many multiply-adds a call runs on one thread: fork/join would cost more than it saves.</summary>
    internal const long ParallelThreshold = 96L * 96 * 96;

    private readonly struct Config
    {
        public required int MR { get; init; }
        public required int NR { get; init; }
        public required int KC { get; init; }
        public required int MC { get; init; }
        public required int NC { get; init; }
        public required delegate*<int, float*, float*, float*, nint, float, void> Kernel { get; init; }
    }

    // Blocking: KC*NR*4 bytes (the B sliver) should sit in L1 next to streaming A; MC*KC*4 (the packed A
    // block) in L2; KC*NC*4 (packed B) in L2/L3. MC is a multiple of MR, NC of NR. Sized for a 48 KiB L1d /
    // 2 MiB L2 core (AVX-512: B sliver 32 KiB, A block 192 KiB, B block 2 MiB). A KC/MC sweep (256/384 x
    // 96..384) on the shared 2-core dev box was inconclusive under load; re-tune with the gemm bench suite.
    private static readonly Config s_avx512 = new()
    {
        MR = 12, NR = 32, KC = 256, MC = 192, NC = 2048,
        Kernel = &Kernel12x32Avx512,
    };

    private static readonly Config s_avx2 = new()
    {
        MR = 6, NR = 16, KC = 256, MC = 144, NC = 2048,
        Kernel = &Kernel6x16Avx2,
    };

    private static readonly Config s_vector128 = new()
    {
        MR = 4, NR = 8, KC = 256, MC = 128, NC = 2048,
        Kernel = &Kernel4x8Vector128,
    };

    /// <summary>The kernel family a request resolves to on this machine (Auto = best supported).</summary>
    internal static ManagedKernel Resolve(ManagedKernel requested) => requested switch
    {
        ManagedKernel.Auto when Avx512F.IsSupported => ManagedKernel.Avx512,
        ManagedKernel.Auto when Avx2.IsSupported && Fma.IsSupported => ManagedKernel.Avx2,
        ManagedKernel.Auto => ManagedKernel.Vector128,
        ManagedKernel.Avx512 when !Avx512F.IsSupported => throw new PlatformNotSupportedException("AVX-512F is not supported on this CPU."),
        ManagedKernel.Avx2 when !(Avx2.IsSupported && Fma.IsSupported) => throw new PlatformNotSupportedException("AVX2+FMA is not supported on this CPU."),
        var k => k,
    };

    private static Config ConfigFor(ManagedKernel kernel) => Resolve(kernel) switch
    {
        ManagedKernel.Avx512 => s_avx512,
        ManagedKernel.Avx2 => s_avx2,
        _ => s_vector128,
    };

    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
        => Sgemm(ManagedKernel.Auto, EnginePolicy.Current.Threads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

    /// <summary>
    /// Same, with an explicit kernel family and thread count: lets tests exercise the fallback kernels and
    /// every thread split without touching process-wide settings.
    /// </summary>
    internal static void Sgemm(ManagedKernel kernel, int threads, bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        Config cfg = ConfigFor(kernel);
        if (m == 0 || n == 0)
            return;
        if (k == 0 || alpha == 0f)
        {
            // Normally handled by Gemm; kept here so this entry point is complete on its own.
            Gemm.ScaleRows(m, n, beta, c, ldc);
            return;
        }
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            var job = new Job(cfg, transA, transB, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
            (int tm, int tn) = ChooseGrid(cfg, m, n, k, threads);
            if (tm * tn == 1)
            {
                job.Run(0, m, 0, n);
                return;
            }
            // Split rows in whole MR panels and columns in whole NR panels so only the true matrix edge
            // produces partial tiles.
            int rowPanels = (m + cfg.MR - 1) / cfg.MR, colPanels = (n + cfg.NR - 1) / cfg.NR;
            Parallel.For(0, tm * tn, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                int ti = t / tn, tj = t % tn;
                int m0 = Math.Min(m, rowPanels * ti / tm * cfg.MR), m1 = Math.Min(m, rowPanels * (ti + 1) / tm * cfg.MR);
                int n0 = Math.Min(n, colPanels * tj / tn * cfg.NR), n1 = Math.Min(n, colPanels * (tj + 1) / tn * cfg.NR);
                if (m0 < m1 && n0 < n1)
                    job.Run(m0, m1, n0, n1);
            });
        }
    }

    /// <summary>
    /// Picks a tm × tn grid of C rectangles (tm*tn = threads) minimising what each worker packs
    /// (its rows + its columns, times k): splitting the longer side is what keeps packing cheap.
    /// </summary>
    private static (int tm, int tn) ChooseGrid(in Config cfg, int m, int n, int k, int threads)
    {
        if (threads <= 1 || (long)m * n * k < ParallelThreshold)
            return (1, 1);
        int rowPanels = (m + cfg.MR - 1) / cfg.MR, colPanels = (n + cfg.NR - 1) / cfg.NR;
        (int tm, int tn) best = (1, 1);
        double bestCost = double.MaxValue;
        for (int tm = 1; tm <= threads; tm++)
        {
            if (threads % tm != 0)
                continue;
            int tn = threads / tm;
            if (tm > rowPanels || tn > colPanels)
                continue;
            // Rows/cols per worker, rounded up to whole panels (the busiest worker sets the wall time).
            double cost = Math.Ceiling((double)rowPanels / tm) * cfg.MR + Math.Ceiling((double)colPanels / tn) * cfg.NR;
            if (cost < bestCost)
            {
                bestCost = cost;
                best = (tm, tn);
            }
        }
        return best;
    }

    /// <summary>One GEMM call's arguments as raw pointers (captured by the parallel workers).</summary>
    private readonly struct Job(Config cfg, bool transA, bool transB, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        /// <summary>Computes the C rectangle rows [m0, m1) × columns [n0, n1) with the full Goto loop nest.</summary>
        public void Run(int m0, int m1, int n0, int n1)
        {
            int mr = cfg.MR, nr = cfg.NR;
            // Even out the k slices (k = 260 as 130+130, not 256+4) so no slice is a nearly empty pass.
            int kSlices = (k + cfg.KC - 1) / cfg.KC;
            int kcMax = (k + kSlices - 1) / kSlices;
            int rows = m1 - m0, cols = n1 - n0;
            int mcMax = Math.Min(cfg.MC, RoundUp(rows, mr));
            int ncMax = Math.Min(cfg.NC, RoundUp(cols, nr));

            PackBuffer bufA = PackBuffer.RentA(mcMax * kcMax);
            PackBuffer bufB = PackBuffer.RentB(ncMax * kcMax);
            float* pa = bufA.Pointer, pb = bufB.Pointer;
            // Edge tiles are computed into this full-size scratch tile, then only the valid part is merged.
            float* tile = stackalloc float[mr * nr];
            try
            {
                for (int jc = n0; jc < n1; jc += ncMax)
                {
                    int nc = Math.Min(ncMax, n1 - jc);
                    for (int pc = 0; pc < k; pc += kcMax)
                    {
                        int kc = Math.Min(kcMax, k - pc);
                        // beta applies once, on the first k slice; later slices accumulate onto it.
                        float betaSlice = pc == 0 ? beta : 1f;
                        PackB(transB, b, ldb, pc, jc, kc, nc, nr, pb);
                        for (int ic = m0; ic < m1; ic += mcMax)
                        {
                            int mc = Math.Min(mcMax, m1 - ic);
                            PackA(transA, a, lda, ic, pc, mc, kc, mr, alpha, pa);
                            MacroKernel(ic, jc, mc, nc, kc, betaSlice, pa, pb, tile);
                        }
                    }
                }
            }
            finally
            {
                PackBuffer.ReturnA(bufA);
                PackBuffer.ReturnB(bufB);
            }
        }

        /// <summary>All MR×NR tiles of one packed MC×KC A block times one packed KC×NC B block.</summary>
        private void MacroKernel(int ic, int jc, int mc, int nc, int kc, float beta, float* pa, float* pb, float* tile)
        {
            int mr = cfg.MR, nr = cfg.NR;
            var kernel = cfg.Kernel;
            // jr outer / ir inner: one B sliver (kc×nr) is reused from L1 by every A micro-panel of the block.
            for (int jr = 0; jr < nc; jr += nr)
            {
                int ncols = Math.Min(nr, nc - jr);
                float* bPanel = pb + (nint)jr * kc;
                for (int ir = 0; ir < mc; ir += mr)
                {
                    int nrows = Math.Min(mr, mc - ir);
                    float* aPanel = pa + (nint)ir * kc;
                    float* cTile = c + (nint)(ic + ir) * ldc + jc + jr;
                    if (nrows == mr && ncols == nr)
                    {
                        kernel(kc, aPanel, bPanel, cTile, ldc, beta);
                        continue;
                    }
                    // Edge tile: the padded lanes hold products with zeros; compute the full tile into
                    // scratch (beta = 0 so scratch is never read) and merge just the valid rows/columns.
                    kernel(kc, aPanel, bPanel, tile, nr, 0f);
                    for (int i = 0; i < nrows; i++)
                    {
                        float* src = tile + i * nr;
                        float* dst = cTile + (nint)i * ldc;
                        for (int j = 0; j < ncols; j++)
                            dst[j] = beta == 0f ? src[j] : src[j] + beta * dst[j];
                    }
                }
            }
        }
    }

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;
}
