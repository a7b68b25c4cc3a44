using System.Buffers;
using System.Numerics.Tensors;

namespace Cedm.Tensors.Kernels;

/// <summary>How the conv drivers spread work over <see cref="ComputeSettings.Threads"/> (benchmarks compare them).</summary>
internal enum ConvThreading
{
    /// <summary>The measured best for the active GEMM back-end (see <see cref="Conv2dKernels.Resolve"/>).</summary>
    Auto,
    /// <summary>Samples split over workers; each worker runs single-threaded managed GEMMs on its own buffers.</summary>
    SamplesManaged,
    /// <summary>Samples split over workers; each calls <see cref="Gemm.Sgemm"/> (the back-end threads as it likes).</summary>
    SamplesShared,
    /// <summary>Samples one after another; each GEMM is <see cref="Gemm.Sgemm"/> using all threads.</summary>
    SerialSamples,
}

/// <summary>
/// Fast 2-D convolution by im2col + GEMM, one sample at a time (the sample's output plane [Cout, OutH·OutW]
/// is exactly W[Cout, Cin·Kh·Kw] × cols, so NCHW needs no reshuffle). 1×1 stride-1 convs skip im2col.
/// The oracle is <see cref="Conv2dReference"/>.
/// </summary>
internal static class Conv2dKernels
{
    /// <summary>Override for benchmarks and tests; Auto in normal use.</summary>
    internal static ConvThreading Threading { get; set; } = ConvThreading.Auto;

    internal static ConvThreading Resolve(ConvThreading t) => t switch
    {
        ConvThreading.Auto when Gemm.ActiveBackend == GemmBackend.Reference => ConvThreading.SerialSamples,
        ConvThreading.Auto => ConvThreading.SamplesManaged,
        var x => x,
    };

    /// <summary>
    /// As <see cref="Resolve(ConvThreading)"/>, per geometry: with OpenBLAS, spatial kernels (k &gt; 1) run their
    /// per-sample GEMMs on OpenBLAS with all threads (SerialSamples). Measured on SongUNet's 3×3 shapes (2 threads,
    /// busy shared machine, CPU time): 53–73 GFLOP/cpu-s against 30–77 for per-sample managed GEMMs, and a full
    /// `small` training step 1.5× faster (bench suite "diffusion"); 1×1 convs keep the managed per-sample split.
    /// </summary>
    internal static ConvThreading Resolve(ConvThreading t, in Conv2dGeometry g) =>
        t == ConvThreading.Auto && Gemm.ActiveBackend == GemmBackend.OpenBlas && !g.IsPointwise ? ConvThreading.SerialSamples : Resolve(t);

    /// <summary>y = conv(x, w) + bias (bias may be empty). y is fully overwritten.</summary>
    public static void Forward(in Conv2dGeometry g, float[] x, float[] w, float[] bias, float[] y, ConvThreading? threading = null)
    {
        var geo = g;
        var mode = Resolve(threading ?? Threading, geo);
        ForSampleRanges(geo, mode, (n0, n1) =>
        {
            int k = geo.ColRows, p = geo.OutPixels;
            float[]? cols = geo.IsPointwise ? null : ArrayPool<float>.Shared.Rent(k * p);
            try
            {
                for (int n = n0; n < n1; n++)
                {
                    ReadOnlySpan<float> b = geo.IsPointwise ? x.AsSpan(n * geo.Cin * geo.InPixels, k * p) : cols;
                    if (cols != null) Im2Col.Pack(geo, x.AsSpan(n * geo.Cin * geo.InPixels, geo.Cin * geo.InPixels), cols, p);
                    Span<float> yn = y.AsSpan(n * geo.Cout * p, geo.Cout * p);
                    // Fused bias: start each output row at its bias and let the GEMM accumulate onto it.
                    float beta = 0f;
                    if (bias.Length > 0)
                    {
                        for (int co = 0; co < geo.Cout; co++) yn.Slice(co * p, p).Fill(bias[co]);
                        beta = 1f;
                    }
                    Sgemm(mode, false, false, geo.Cout, p, k, w, k, b, p, beta, yn, p);
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
        var mode = Resolve(threading ?? Threading, geo);
        int k = geo.ColRows, p = geo.OutPixels;
        var dataGeo = geo.DataGradGeometry();
        bool dataAsConv = dx != null && geo.DataGradAsConv;
        float[]? flipped = dataAsConv ? FlipKernel(geo, w) : null;

        // Each worker sums its samples' weight/bias gradients privately; the partials are added at the end.
        var partials = new List<(float[]? Dw, float[]? Db)>();
        ForSampleRanges(geo, mode, (n0, n1) =>
        {
            float[]? myDw = dw == null ? null : ArrayPool<float>.Shared.Rent(geo.Cout * k);
            float[]? myDb = db == null ? null : ArrayPool<float>.Shared.Rent(geo.Cout);
            int colsLen = Math.Max(dw != null && !geo.IsPointwise ? k * p : 0,
                dx == null || geo.IsPointwise ? 0 : dataAsConv ? dataGeo.ColRows * dataGeo.OutPixels : k * p);
            float[]? cols = colsLen > 0 ? ArrayPool<float>.Shared.Rent(colsLen) : null;
            try
            {
                if (myDb != null) Array.Clear(myDb, 0, geo.Cout);
                for (int n = n0; n < n1; n++)
                {
                    ReadOnlySpan<float> dyn = dy.AsSpan(n * geo.Cout * p, geo.Cout * p);
                    int xOff = n * geo.Cin * geo.InPixels, xLen = geo.Cin * geo.InPixels;
                    if (myDb != null)
                        for (int co = 0; co < geo.Cout; co++) myDb[co] += TensorPrimitives.Sum(dyn.Slice(co * p, p));
                    if (myDw != null)
                    {
                        // dW[Cout, K] += dY_n[Cout, P] · cols_nᵀ[P, K]
                        ReadOnlySpan<float> c = geo.IsPointwise ? x.AsSpan(xOff, xLen) : cols;
                        if (cols != null && !geo.IsPointwise) Im2Col.Pack(geo, x.AsSpan(xOff, xLen), cols, p);
                        Sgemm(mode, false, true, geo.Cout, k, p, dyn, p, c, p, n == n0 ? 0f : 1f, myDw, k);
                    }
                    if (dx == null) continue;
                    Span<float> dxn = dx.AsSpan(xOff, xLen);
                    if (geo.IsPointwise)
                        Sgemm(mode, true, false, geo.Cin, p, geo.Cout, w, geo.Cin, dyn, p, 0f, dxn, p);
                    else if (dataAsConv)
                    {
                        // dX_n = W_flip[Cin, Cout·Kh·Kw] · im2col(dY_n) with padding K−1−P: no scatter needed.
                        int kd = dataGeo.ColRows, pd = dataGeo.OutPixels;
                        Im2Col.Pack(dataGeo, dyn, cols, pd);
                        Sgemm(mode, false, false, geo.Cin, pd, kd, flipped, kd, cols, pd, 0f, dxn, pd);
                    }
                    else
                    {
                        // dcols[K, P] = Wᵀ · dY_n, then scatter-add back onto the pixels (col2im).
                        Sgemm(mode, true, false, k, p, geo.Cout, w, k, dyn, p, 0f, cols, p);
                        dxn.Clear();
                        Im2Col.Unpack(geo, cols, p, dxn);
                    }
                }
                lock (partials) partials.Add((myDw, myDb));
            }
            finally { if (cols != null) ArrayPool<float>.Shared.Return(cols); }
        });

        for (int i = 0; i < partials.Count; i++)
        {
            var (pdw, pdb) = partials[i];
            if (dw != null && pdw != null)
            {
                if (i == 0) pdw.AsSpan(0, dw.Length).CopyTo(dw);
                else TensorPrimitives.Add(dw, pdw.AsSpan(0, dw.Length), dw);
                ArrayPool<float>.Shared.Return(pdw);
            }
            if (db != null && pdb != null)
            {
                if (i == 0) pdb.AsSpan(0, db.Length).CopyTo(db);
                else TensorPrimitives.Add(db, pdb.AsSpan(0, db.Length), db);
                ArrayPool<float>.Shared.Return(pdb);
            }
        }
        if (partials.Count == 0)
        {
            dw?.AsSpan().Clear();
            db?.AsSpan().Clear();
        }
    }

    /// <summary>W_flip[ci, co, ky, kx] = W[co, ci, Kh−1−ky, Kw−1−kx]: the kernel of the input-gradient convolution.</summary>
    private static float[] FlipKernel(in Conv2dGeometry g, float[] w)
    {
        int kk = g.Kh * g.Kw;
        var f = GC.AllocateUninitializedArray<float>(g.Cout * g.ColRows);
        for (int co = 0; co < g.Cout; co++)
            for (int ci = 0; ci < g.Cin; ci++)
            {
                int src = (co * g.Cin + ci) * kk, dst = (ci * g.Cout + co) * kk;
                // Reversing the Kh·Kw block reverses both ky and kx at once.
                for (int t = 0; t < kk; t++) f[dst + t] = w[src + kk - 1 - t];
            }
        return f;
    }

    /// <summary>Runs body over contiguous sample ranges: one range per worker, or all samples at once when serial.</summary>
    private static void ForSampleRanges(in Conv2dGeometry g, ConvThreading mode, Action<int, int> body)
    {
        int n = g.N;
        long work = (long)g.Cout * g.ColRows * g.OutPixels;
        int workers = mode == ConvThreading.SerialSamples ? 1 : Math.Min(ComputeSettings.Threads, n);
        if (workers <= 1 || n * work < Parallelism.MinParallelElements * 4)
        {
            if (n > 0) body(0, n);
            return;
        }
        Parallel.For(0, workers, ComputeSettings.ParallelOptions, i =>
        {
            int n0 = (int)((long)n * i / workers), n1 = (int)((long)n * (i + 1) / workers);
            if (n0 < n1) body(n0, n1);
        });
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
