using System.Buffers;
using System.Numerics.Tensors;

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
    /// <summary>Override for benchmarks and tests; Auto in normal use.</summary>
    internal static ConvThreading Threading { get; set; } = ConvThreading.Auto;

    /// <summary>
    /// Auto = one single-threaded managed GEMM per worker, samples split over workers: on the 2-core AVX-512 box
    /// this beat OpenBLAS 0.3.21 (whose SGEMM ran at about half the managed kernel's speed on these shapes) and
    /// OpenBLAS called from parallel workers (its level-3 lock serialises them); see bench suite "conv".
    /// An explicitly requested back-end (Gemm.Backend = OpenBlas or Reference) is honoured with all threads per GEMM.
    /// </summary>
    internal static ConvThreading Resolve(ConvThreading t) => t switch
    {
        ConvThreading.Auto when Gemm.Backend is GemmBackend.Reference or GemmBackend.OpenBlas => ConvThreading.SerialSamples,
        ConvThreading.Auto => ConvThreading.SamplesManaged,
        var x => x,
    };

    /// <summary>
    /// Floats of im2col buffer per band of output rows: bounds the per-worker column buffer for large images
    /// (a 256-channel 3×3 64×64 sample would need 38 MiB at once). Smaller bands (to keep the block in L2 while
    /// the GEMM packs it) measured no faster for 64 channels 3×3 32×32, so typical SongUNet layers run whole
    /// samples (one GEMM with n = H·W). Tunable (per thread) for benchmarks and tests.
    /// </summary>
    internal static int BandBudgetFloats { get => t_bandBudget ?? 1 << 20; set => t_bandBudget = value; }

    // Per calling thread, so a test that shrinks it does not change other convolutions running concurrently.
    [ThreadStatic] private static int? t_bandBudget;

    /// <summary>Output rows per band for a column matrix with <paramref name="colRows"/> rows.</summary>
    private static int BandRows(int colRows, int outW, int outH) =>
        Math.Clamp(BandBudgetFloats / Math.Max(1, colRows * outW), 1, Math.Max(1, outH));

    /// <summary>y = conv(x, w) + bias (bias may be empty). y is fully overwritten.</summary>
    public static void Forward(in Conv2dGeometry g, float[] x, float[] w, float[] bias, float[] y, ConvThreading? threading = null)
    {
        var geo = g;
        var mode = Resolve(threading ?? Threading);
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
        if (UseWinograd && Winograd3x3.Applies(geo))
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

    /// <summary>
    /// Gradients from dy: dx (null to skip; fully overwritten), dw and db (null to skip; overwritten with the
    /// batch sum). x is only read when dw is wanted.
    /// </summary>
    public static void Backward(in Conv2dGeometry g, float[] x, float[] w, float[] dy, float[]? dx, float[]? dw, float[]? db,
        ConvThreading? threading = null)
    {
        var geo = g;
        var mode = Resolve(threading ?? Threading);
        if (UsePadded(geo, mode, out var padded))
        {
            PaddedBackward(geo, padded, mode, x, w, dy, dx, dw, db);
            return;
        }
        int k = geo.ColRows, p = geo.OutPixels, band = BandRows(k, geo.OutW, geo.OutH);
        var dataGeo = geo.DataGradGeometry();
        bool dataAsConv = dx != null && geo.DataGradAsConv;
        bool dataHwc = dataAsConv && UseHwc(dataGeo, mode), weightHwc = dw != null && UseHwc(geo, mode);
        bool dataWinograd = !dataHwc && dataAsConv && UseWinograd && Winograd3x3.Applies(dataGeo);
        bool weightWinograd = !weightHwc && dw != null && UseWinograd && Winograd3x3.Applies(geo);
        var dataPlan = dataHwc ? new WinogradHwc.Plan(dataGeo) : default;
        var weightPlan = weightHwc ? new WinogradHwc.Plan(geo) : default;
        int dataBand = BandRows(dataGeo.ColRows, dataGeo.OutW, dataGeo.OutH);
        float[]? flipped = dataAsConv && !dataHwc ? FlipKernel(geo, w) : null;
        float[]? dataU = dataWinograd ? Winograd3x3.TransformWeights(dataGeo.Cout, dataGeo.Cin, flipped) : null;
        PackBuffer? dataPacked = dataHwc ? HwcWeights(dataGeo, w, flip: true) : null;
        // Winograd paths work on groups of samples (several small images side by side in one set of GEMMs).
        int weightGroup = weightHwc ? weightPlan.Samples : weightWinograd ? Winograd3x3.GroupSize(geo) : 1;
        int dataGroup = dataHwc ? dataPlan.Samples : dataWinograd ? Winograd3x3.GroupSize(dataGeo) : 1;
        long colsLen = Math.Max(weightWinograd ? Winograd3x3.ScratchFloats(geo, weightGroup)
                : dw != null && !weightHwc && !geo.IsPointwise ? (long)k * band * geo.OutW : 0,
            dx == null || geo.IsPointwise || dataHwc ? 0 : dataWinograd ? Winograd3x3.ScratchFloats(dataGeo, dataGroup)
                : dataAsConv ? (long)dataGeo.ColRows * dataBand * dataGeo.OutW : (long)k * p);
        bool zPartials = weightWinograd || weightHwc;

        // Each chunk of samples sums its weight/bias gradients privately; the partials are added in chunk order
        // at the end, so the result does not depend on which worker ran which chunk.
        int chunks = ChunkCount(geo.N, Math.Max(weightGroup, dataGroup));
        // Each chunk sums a private Winograd Z (16·Cout·Cin floats: 4 MiB at 256 channels) that is cleared first and
        // added up serially at the end; bound their total so wide layers do not spend their time there.
        if (zPartials) chunks = Math.Min(chunks, Math.Max(2, PartialBudgetFloats / Winograd3x3.WeightGradFloats(geo)));
        var dwParts = new float[chunks][];
        var dbParts = new float[chunks][];
        ForSamples(geo, mode, samples =>
        {
            float[]? cols = colsLen > 0 ? ArrayPool<float>.Shared.Rent(checked((int)colsLen)) : null;
            // The channels-innermost path wants 64-byte aligned scratch (every zmm access then stays in one cache line).
            PackBuffer? hwcScratch = dataHwc || weightHwc
                ? PackBuffer.RentScratch(Math.Max(dataHwc ? dataPlan.ScratchFloats : 0, weightHwc ? weightPlan.ScratchFloats : 0)) : null;
            var gemm = dataWinograd ? GemmFor(mode) : null;
            Winograd3x3.GemmNT? gemmNT = weightWinograd
                ? (m, nn, kk, a, b, c, acc) => Sgemm(mode, false, true, m, nn, kk, a, kk, b, kk, acc ? 1f : 0f, c, nn)
                : null;
            try
            {
                while (samples.TryNext(out int chunk, out int n0, out int n1))
                {
                    // Per chunk: dWᵀ [K, Cout] on the im2col path, Z [16, Cout, Cin] on the Winograd path.
                    float[]? myDw = dw == null || n1 <= n0 ? null : dwParts[chunk] ??= RentPartial(
                        zPartials ? Winograd3x3.WeightGradFloats(geo) : geo.Cout * k, clear: weightHwc);
                    float[]? myDb = db == null || n1 <= n0 ? null : dbParts[chunk] ??= new float[geo.Cout];
                    int xs = geo.Cin * geo.InPixels, ys = geo.Cout * p;
                    if (myDb != null)
                        for (int n = n0; n < n1; n++)
                            for (int co = 0; co < geo.Cout; co++) myDb[co] += TensorPrimitives.Sum(dy.AsSpan(n * ys + co * p, p));
                    if (myDw != null && weightHwc)
                        for (int n = n0; n < n1; n += weightGroup)
                        {
                            int s = Math.Min(weightGroup, n1 - n);
                            fixed (float* px = x) fixed (float* pd = dy) fixed (float* pz = myDw)
                                WinogradHwc.WeightGradUnit(geo, weightPlan, s, px + (long)n * xs, pd + (long)n * ys, pz, hwcScratch!.Pointer);
                        }
                    else if (myDw != null && weightWinograd)
                        for (int n = n0; n < n1; n += weightGroup)
                        {
                            int s = Math.Min(weightGroup, n1 - n);
                            Winograd3x3.WeightGradGroup(geo, s, x.AsSpan(n * xs, s * xs), dy.AsSpan(n * ys, s * ys), myDw,
                                accumulate: n > n0, cols, gemmNT!);
                        }
                    else if (myDw != null)
                        for (int n = n0; n < n1; n++)
                            WeightGradSample(geo, mode, x.AsSpan(n * xs, xs), dy.AsSpan(n * ys, ys), cols, band, myDw, accumulate: n > n0);
                    if (dx == null) continue;
                    if (dataHwc)
                    {
                        for (int n = n0; n < n1; n += dataGroup)
                        {
                            int s = Math.Min(dataGroup, n1 - n);
                            fixed (float* pd = dy) fixed (float* px = dx)
                                WinogradHwc.ForwardUnit(dataGeo, dataPlan, s, dataPacked!.Pointer, pd + (long)n * ys, null, px + (long)n * xs, hwcScratch!.Pointer);
                        }
                        continue;
                    }
                    if (dataWinograd)
                    {
                        for (int n = n0; n < n1; n += dataGroup)
                        {
                            int s = Math.Min(dataGroup, n1 - n);
                            Winograd3x3.ForwardGroup(dataGeo, s, dataU!, dy.AsSpan(n * ys, s * ys), [], dx.AsSpan(n * xs, s * xs), cols, gemm!);
                        }
                        continue;
                    }
                    for (int n = n0; n < n1; n++)
                    {
                        ReadOnlySpan<float> dyn = dy.AsSpan(n * ys, ys);
                        Span<float> dxn = dx.AsSpan(n * xs, xs);
                        if (geo.IsPointwise)
                            Sgemm(mode, true, false, geo.Cin, p, geo.Cout, w, geo.Cin, dyn, p, 0f, dxn, p);
                        else if (dataAsConv)
                        {
                            // dX_n = W_flip[Cin, Cout·Kh·Kw] · im2col(dY_n) with padding K−1−P: no scatter needed.
                            int kd = dataGeo.ColRows, pd = dataGeo.OutPixels;
                            for (int oy0 = 0; oy0 < dataGeo.OutH; oy0 += dataBand)
                            {
                                int oy1 = Math.Min(dataGeo.OutH, oy0 + dataBand), bp = (oy1 - oy0) * dataGeo.OutW;
                                Im2Col.Pack(dataGeo, dyn, cols, bp, oy0, oy1);
                                Sgemm(mode, false, false, geo.Cin, bp, kd, flipped, kd, cols, bp, 0f, dxn[(oy0 * dataGeo.OutW)..], pd);
                            }
                        }
                        else
                        {
                            // dcols[K, P] = Wᵀ · dY_n, then scatter-add back onto the pixels (col2im).
                            Sgemm(mode, true, false, k, p, geo.Cout, w, k, dyn, p, 0f, cols, p);
                            dxn.Clear();
                            Im2Col.Unpack(geo, cols, p, dxn);
                        }
                    }
                }
            }
            finally
            {
                if (cols != null) ArrayPool<float>.Shared.Return(cols);
                if (hwcScratch != null) PackBuffer.ReturnScratch(hwcScratch);
            }
        }, chunks);

        if (flipped != null) ArrayPool<float>.Shared.Return(flipped);
        if (dataPacked != null) PackBuffer.ReturnWeights(dataPacked);
        if (dataU != null) ArrayPool<float>.Shared.Return(dataU);
        for (int i = 0; i < chunks; i++)
        {
            float[]? pdw = dwParts[i], pdb = dbParts[i];
            if (dw != null && pdw != null && zPartials)
            {
                // Sum the Z partials into the first, in chunk order; back-transformed once below.
                if (i > 0)
                {
                    int zl = Winograd3x3.WeightGradFloats(geo);
                    TensorPrimitives.Add(dwParts[0].AsSpan(0, zl), pdw.AsSpan(0, zl), dwParts[0].AsSpan(0, zl));
                    ArrayPool<float>.Shared.Return(pdw);
                }
            }
            else if (dw != null && pdw != null)
            {
                // Partials hold dWᵀ [K, Cout]; dw is [Cout, K].
                for (int co = 0; co < geo.Cout; co++)
                {
                    Span<float> row = dw.AsSpan(co * k, k);
                    if (i == 0) for (int r = 0; r < k; r++) row[r] = pdw[r * geo.Cout + co];
                    else for (int r = 0; r < k; r++) row[r] += pdw[r * geo.Cout + co];
                }
                ArrayPool<float>.Shared.Return(pdw);
            }
            if (db != null && pdb != null)
            {
                if (i == 0) pdb.AsSpan(0, db.Length).CopyTo(db);
                else TensorPrimitives.Add(db, pdb.AsSpan(0, db.Length), db);
            }
        }
        if (zPartials && chunks > 0)
        {
            if (weightHwc)
                fixed (float* pz = dwParts[0]) fixed (float* pw = dw) WinogradHwc.FinishWeightGrad(geo.Cout, geo.Cin, pz, pw);
            else
                Winograd3x3.FinishWeightGrad(geo.Cout, geo.Cin, dwParts[0], dw);
            ArrayPool<float>.Shared.Return(dwParts[0]);
        }
        if (chunks == 0)
        {
            dw?.AsSpan().Clear();
            db?.AsSpan().Clear();
        }
    }

    /// <summary>Floats of weight-gradient partial sums a backward call may hold (see <see cref="Backward"/>).</summary>
    private const int PartialBudgetFloats = 1 << 21;

    /// <summary>Winograd F(2×2, 3×3) is used for eligible 3×3 stride-1 convs (forward, input and weight gradients); benchmarks switch it off to compare.</summary>
    internal static bool UseWinograd { get; set; } = true;

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
        UseWinograd && mode == ConvThreading.SamplesManaged && WinogradHwc.Applies(g);

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

    private static float[] RentPartial(int length, bool clear)
    {
        var a = ArrayPool<float>.Shared.Rent(length);
        if (clear) a.AsSpan(0, length).Clear();
        return a;
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
