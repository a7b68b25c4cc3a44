using System.Buffers;

namespace Cedm.Tensors.Kernels;

/// <summary>
/// Fast 2-D convolution, one sample at a time (a sample's output plane [Cout, OutH·OutW] is exactly
/// W[Cout, Cin·Kh·Kw] × cols, so NCHW needs no reshuffle):
/// <list type="bullet">
/// <item>3×3 stride 1 with ≥ 16 channels (most of SongUNet): Winograd F(2×2, 3×3) (<see cref="Winograd3x3"/>)
/// for the forward and for the input gradient (itself a 3×3 stride-1 conv with the flipped kernel).</item>
/// <item>1×1 stride 1: plain GEMMs on the input planes, no im2col.</item>
/// <item>everything else: im2col + GEMM; the input gradient as a flipped-kernel conv when stride is 1 and
/// padding ≤ K−1, otherwise GEMM + col2im.</item>
/// <item>weight gradient: Winograd too where it applies (Z[ξ] += (A dY Aᵀ)[ξ]·V[ξ]ᵀ, then Gᵀ Z G), else
/// im2col with dWᵀ += cols·dYᵀ.</item>
/// </list>
/// The oracle is <see cref="Conv2dReference"/>.
/// </summary>
internal static unsafe partial class Conv2dKernels
{
    /// <summary>
    /// Auto = one single-threaded managed GEMM per worker, samples split over workers: on the 2-core AVX-512 box
    /// this beat OpenBLAS 0.3.21 (whose SGEMM ran at about half the managed kernel's speed on these shapes) and
    /// OpenBLAS called from parallel workers (its level-3 lock serialises them); see bench suite "conv".
    /// An explicitly requested back-end (<see cref="EnginePolicy.GemmBackend"/> = OpenBlas or Reference) is honoured
    /// with all threads per GEMM.
    /// </summary>
    internal static ConvThreading Resolve(ConvThreading t) => t switch
    {
        ConvThreading.Auto when EnginePolicy.Current.GemmBackend is GemmBackend.Reference or GemmBackend.OpenBlas => ConvThreading.SerialSamples,
        ConvThreading.Auto => ConvThreading.SamplesManaged,
        var x => x,
    };

    /// <summary>
    /// Floats of im2col buffer per band of output rows: bounds the per-worker column buffer for large images
    /// (a 256-channel 3×3 64×64 sample would need 38 MiB at once). Smaller bands (to keep the block in L2 while
    /// the GEMM packs it) measured no faster for 64 channels 3×3 32×32, so typical SongUNet layers run whole
    /// samples (one GEMM with n = H·W). Tunable for benchmarks and tests (<see cref="EnginePolicy.Im2ColBandFloats"/>).
    /// </summary>
    internal static int BandBudgetFloats => EnginePolicy.Current.Im2ColBandFloats;

    /// <summary>Output rows per band for a column matrix with <paramref name="colRows"/> rows.</summary>
    private static int BandRows(int colRows, int outW, int outH) =>
        Math.Clamp(BandBudgetFloats / Math.Max(1, colRows * outW), 1, Math.Max(1, outH));

    /// <summary>y = conv(x, w) + bias (bias may be empty). y is fully overwritten.</summary>
    public static void Forward(in Conv2dGeometry g, float[] x, float[] w, float[] bias, float[] y, ConvThreading? threading = null)
    {
        var geo = g;
        var mode = Resolve(threading ?? EnginePolicy.Current.ConvThreading);
        int k = geo.ColRows, p = geo.OutPixels, band = BandRows(k, geo.OutW, geo.OutH);
        if (UseHwc(geo, mode))
        {
            HwcSamples(geo, mode, x, w, bias, y);
            return;
        }
        if (UsePadded(geo, mode, out var padded))
        {
            PaddedForward(geo, padded, mode, x, w, bias, y);
            return;
        }
        if (Winograd3x3.Applies(geo))
        {
            var u = Winograd3x3.TransformWeights(geo.Cout, geo.Cin, w);
            try { WinogradSamples(geo, mode, u, x, bias, y); }
            finally { ArrayPool<float>.Shared.Return(u); }
            return;
        }
        ForSamples(geo, mode, samples =>
        {
            float[]? cols = geo.IsPointwise ? null : ArrayPool<float>.Shared.Rent(k * band * geo.OutW);
            try
            {
                while (samples.TryNext(out _, out int n0, out int n1))
                for (int n = n0; n < n1; n++)
                {
                    ReadOnlySpan<float> xn = x.AsSpan(n * geo.Cin * geo.InPixels, geo.Cin * geo.InPixels);
                    Span<float> yn = y.AsSpan(n * geo.Cout * p, geo.Cout * p);
                    // Fused bias: start each output row at its bias and let the GEMM accumulate onto it.
                    float beta = 0f;
                    if (bias.Length > 0)
                    {
                        for (int co = 0; co < geo.Cout; co++) yn.Slice(co * p, p).Fill(bias[co]);
                        beta = 1f;
                    }
                    if (cols == null)
                    {
                        Sgemm(mode, false, false, geo.Cout, p, k, w, k, xn, p, beta, yn, p);
                        continue;
                    }
                    for (int oy0 = 0; oy0 < geo.OutH; oy0 += band)
                    {
                        int oy1 = Math.Min(geo.OutH, oy0 + band), bp = (oy1 - oy0) * geo.OutW;
                        Im2Col.Pack(geo, xn, cols, bp, oy0, oy1);
                        Sgemm(mode, false, false, geo.Cout, bp, k, w, k, cols, bp, beta, yn[(oy0 * geo.OutW)..], p);
                    }
                }
            }
            finally { if (cols != null) ArrayPool<float>.Shared.Return(cols); }
        });
    }

    /// <summary>Floats of weight-gradient partial sums a backward call may hold (see <see cref="Backward"/>).</summary>
    private const int PartialBudgetFloats = 1 << 21;

    private static void WinogradSamples(Conv2dGeometry geo, ConvThreading mode, float[] u, float[] x, float[] bias, float[] y)
    {
        int group = Winograd3x3.GroupSize(geo), xs = geo.Cin * geo.InPixels, ys = geo.Cout * geo.OutPixels;
        ForSamples(geo, mode, samples =>
        {
            var scratch = ArrayPool<float>.Shared.Rent(checked((int)Winograd3x3.ScratchFloats(geo, group)));
            var gemm = GemmFor(mode);
            try
            {
                while (samples.TryNext(out _, out int n0, out int n1))
                    for (int n = n0; n < n1; n += group)
                    {
                        int s = Math.Min(group, n1 - n);
                        Winograd3x3.ForwardGroup(geo, s, u, x.AsSpan(n * xs, s * xs), bias, y.AsSpan(n * ys, s * ys), scratch, gemm);
                    }
            }
            finally { ArrayPool<float>.Shared.Return(scratch); }
        }, ChunkCount(geo.N, group));
    }

    /// <summary>The channels-innermost Winograd path runs where it applies and the managed per-sample GEMM mode is active.</summary>
    private static bool UseHwc(in Conv2dGeometry g, ConvThreading mode) =>
        mode == ConvThreading.SamplesManaged && WinogradHwc.Applies(g);

    /// <summary>The packed Winograd weights of a conv (in the calling thread's aligned weights buffer; return it).</summary>
    private static PackBuffer HwcWeights(in Conv2dGeometry g, float[] w, bool flip)
    {
        var packed = PackBuffer.RentWeights(16 * g.Cout * g.Cin);
        fixed (float* pw = w) WinogradHwc.PackWeights(g.Cout, g.Cin, pw, flip, packed.Pointer);
        return packed;
    }

    private static void HwcSamples(Conv2dGeometry geo, ConvThreading mode, float[] x, float[] w, float[] bias, float[] y)
    {
        var plan = new WinogradHwc.Plan(geo);
        var packed = HwcWeights(geo, w, flip: false);
        int xs = geo.Cin * geo.InPixels, ys = geo.Cout * geo.OutPixels;
        try
        {
            ForSamples(geo, mode, samples =>
            {
                var scratch = PackBuffer.RentScratch(plan.ScratchFloats);
                try
                {
                    fixed (float* px = x) fixed (float* py = y) fixed (float* pb = bias)
                        while (samples.TryNext(out _, out int n0, out int n1))
                            for (int n = n0; n < n1; n += plan.Samples)
                            {
                                int s = Math.Min(plan.Samples, n1 - n);
                                WinogradHwc.ForwardUnit(geo, plan, s, packed.Pointer, px + (long)n * xs, bias.Length > 0 ? pb : null,
                                    py + (long)n * ys, scratch.Pointer);
                            }
                }
                finally { PackBuffer.ReturnScratch(scratch); }
            }, ChunkCount(geo.N, plan.Samples));
        }
        finally { PackBuffer.ReturnWeights(packed); }
    }

    private static Winograd3x3.GemmNN GemmFor(ConvThreading mode) =>
        (m, n, k, a, b, c) => Sgemm(mode, false, false, m, n, k, a, k, b, n, 0f, c, n);

    /// <summary>
    /// dWᵀ[K, Cout] (+)= cols_n[K, P] · dY_nᵀ[P, Cout], band by band. The transposed product is the faster GEMM
    /// shape (K = Cin·Kh·Kw tall, Cout narrow; measured ~25% faster than dY·colsᵀ for 64 channels 3×3);
    /// the caller transposes the worker's partial back once.
    /// </summary>
    private static void WeightGradSample(in Conv2dGeometry g, ConvThreading mode, ReadOnlySpan<float> xn, ReadOnlySpan<float> dyn,
        float[]? cols, int band, float[] dwT, bool accumulate)
    {
        int k = g.ColRows, p = g.OutPixels;
        if (g.IsPointwise)
        {
            Sgemm(mode, false, true, k, g.Cout, p, xn, p, dyn, p, accumulate ? 1f : 0f, dwT, g.Cout);
            return;
        }
        for (int oy0 = 0; oy0 < g.OutH; oy0 += band)
        {
            int oy1 = Math.Min(g.OutH, oy0 + band), bp = (oy1 - oy0) * g.OutW;
            Im2Col.Pack(g, xn, cols, bp, oy0, oy1);
            Sgemm(mode, false, true, k, g.Cout, bp, cols, bp, dyn[(oy0 * g.OutW)..], p, accumulate || oy0 > 0 ? 1f : 0f, dwT, g.Cout);
        }
    }

    /// <summary>
    /// W_flip[ci, co, ky, kx] = W[co, ci, Kh−1−ky, Kw−1−kx]: the kernel of the input-gradient convolution, in a
    /// buffer rented from the shared pool (the caller returns it).
    /// </summary>
    private static float[] FlipKernel(in Conv2dGeometry g, float[] w)
    {
        int kk = g.Kh * g.Kw;
        var f = ArrayPool<float>.Shared.Rent(g.Cout * g.ColRows);
        for (int co = 0; co < g.Cout; co++)
            for (int ci = 0; ci < g.Cin; ci++)
            {
                int src = (co * g.Cin + ci) * kk, dst = (ci * g.Cout + co) * kk;
                // Reversing the Kh·Kw block reverses both ky and kx at once.
                for (int t = 0; t < kk; t++) f[dst + t] = w[src + kk - 1 - t];
            }
        return f;
    }

    private static void Sgemm(ConvThreading mode, bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        if (mode == ConvThreading.SamplesManaged)
            GemmManaged.Sgemm(ManagedKernel.Auto, 1, transA, transB, m, n, k, 1f, a, lda, b, ldb, beta, c, ldc);
        else
            Gemm.Sgemm(transA, transB, m, n, k, 1f, a, lda, b, ldb, beta, c, ldc);
    }
}
