using System.Buffers;
using System.Numerics.Tensors;

namespace Cedm.Tensors.Kernels;

// The convolution backward: which path computes each gradient (decided once per call in BackwardPlan), the
// per-chunk work, and the ordered reduction of the chunks' weight/bias partial sums.
internal static unsafe partial class Conv2dKernels
{
    /// <summary>
    /// Gradients from dy: dx (null to skip; fully overwritten), dw and db (null to skip; overwritten with the
    /// batch sum). x is only read when dw is wanted.
    /// </summary>
    public static void Backward(in Conv2dGeometry g, float[] x, float[] w, float[] dy, float[]? dx, float[]? dw, float[]? db,
        ConvThreading? threading = null)
    {
        var geo = g;
        var mode = Resolve(threading ?? EnginePolicy.Current.ConvThreading);
        if (UsePadded(geo, mode, out var padded))
        {
            PaddedBackward(geo, padded, mode, x, w, dy, dx, dw, db);
            return;
        }
        using var plan = new BackwardPlan(geo, mode, w, wantDx: dx != null, wantDw: dw != null);
        // Each chunk of samples sums its weight/bias gradients privately; the partials are added in chunk order
        // at the end, so the result does not depend on which worker ran which chunk.
        var dwParts = new float[plan.Chunks][];
        var dbParts = new float[plan.Chunks][];
        ForSamples(geo, mode, samples =>
        {
            using var scratch = plan.RentScratch();
            while (samples.TryNext(out int chunk, out int n0, out int n1))
            {
                if (n1 <= n0) continue;
                if (db != null) plan.BiasGradChunk(dy, dbParts[chunk] ??= new float[geo.Cout], n0, n1);
                if (dw != null) plan.WeightGradChunk(x, dy, dwParts[chunk] ??= plan.RentWeightPartial(), n0, n1, scratch);
                if (dx != null) plan.DataGradChunk(w, dy, dx, n0, n1, scratch);
            }
        }, plan.Chunks);
        plan.Reduce(dwParts, dbParts, dw, db);
    }

    /// <summary>Per-worker buffers of a backward call: a pooled column/Winograd buffer and/or aligned HWC scratch.</summary>
    private readonly struct BackwardScratch(float[]? cols, PackBuffer? hwc) : IDisposable
    {
        public float[]? Cols { get; } = cols;
        public PackBuffer? Hwc { get; } = hwc;

        public void Dispose()
        {
            if (Cols != null) ArrayPool<float>.Shared.Return(Cols);
            if (Hwc != null) PackBuffer.ReturnScratch(Hwc);
        }
    }

    /// <summary>
    /// What one backward call runs: for the input gradient the channels-innermost Winograd conv of dy with the flipped
    /// kernel, the NCHW Winograd one, im2col of dy with the flipped kernel, a GEMM (1×1), or GEMM + col2im; for the
    /// weight gradient channels-innermost Winograd, NCHW Winograd or im2col. Owns the transformed weights.
    /// </summary>
    private sealed class BackwardPlan : IDisposable
    {
        private readonly Conv2dGeometry _g, _dataGeo;
        private readonly ConvThreading _mode;
        private readonly bool _dataAsConv, _dataHwc, _weightHwc, _dataWinograd, _weightWinograd;
        private readonly WinogradHwc.Plan _dataPlan, _weightPlan;
        private readonly int _dataGroup, _weightGroup, _band, _dataBand;
        private readonly long _colsLen;
        private readonly float[]? _flipped, _dataU;
        private readonly PackBuffer? _dataPacked;
        private readonly Winograd3x3.GemmNN? _gemm;
        private readonly Winograd3x3.GemmNT? _gemmNT;

        public BackwardPlan(in Conv2dGeometry g, ConvThreading mode, float[] w, bool wantDx, bool wantDw)
        {
            _g = g;
            _mode = mode;
            _dataGeo = g.DataGradGeometry();
            int k = g.ColRows;
            _band = BandRows(k, g.OutW, g.OutH);
            _dataBand = BandRows(_dataGeo.ColRows, _dataGeo.OutW, _dataGeo.OutH);
            _dataAsConv = wantDx && g.DataGradAsConv;
            _dataHwc = _dataAsConv && UseHwc(_dataGeo, mode);
            _weightHwc = wantDw && UseHwc(g, mode);
            _dataWinograd = !_dataHwc && _dataAsConv && Winograd3x3.Applies(_dataGeo);
            _weightWinograd = !_weightHwc && wantDw && Winograd3x3.Applies(g);
            if (_dataHwc) _dataPlan = new WinogradHwc.Plan(_dataGeo);
            if (_weightHwc) _weightPlan = new WinogradHwc.Plan(g);
            _flipped = _dataAsConv && !_dataHwc ? FlipKernel(g, w) : null;
            _dataU = _dataWinograd ? Winograd3x3.TransformWeights(_dataGeo.Cout, _dataGeo.Cin, _flipped) : null;
            _dataPacked = _dataHwc ? HwcWeights(_dataGeo, w, flip: true) : null;
            // Winograd paths work on groups of samples (several small images side by side in one set of GEMMs).
            _weightGroup = _weightHwc ? _weightPlan.Samples : _weightWinograd ? Winograd3x3.GroupSize(g) : 1;
            _dataGroup = _dataHwc ? _dataPlan.Samples : _dataWinograd ? Winograd3x3.GroupSize(_dataGeo) : 1;
            _colsLen = Math.Max(_weightWinograd ? Winograd3x3.ScratchFloats(g, _weightGroup)
                    : wantDw && !_weightHwc && !g.IsPointwise ? (long)k * _band * g.OutW : 0,
                !wantDx || g.IsPointwise || _dataHwc ? 0 : _dataWinograd ? Winograd3x3.ScratchFloats(_dataGeo, _dataGroup)
                    : _dataAsConv ? (long)_dataGeo.ColRows * _dataBand * _dataGeo.OutW : (long)k * g.OutPixels);
            if (_dataWinograd) _gemm = GemmFor(mode);
            if (_weightWinograd)
                _gemmNT = (m, nn, kk, a, b, c, acc) => Sgemm(mode, false, true, m, nn, kk, a, kk, b, kk, acc ? 1f : 0f, c, nn);
            Chunks = ChunkCount(g.N, Math.Max(_weightGroup, _dataGroup));
            // Each chunk sums a private Winograd Z (16·Cout·Cin floats: 4 MiB at 256 channels) that is cleared first and
            // added up serially at the end; bound their total so wide layers do not spend their time there.
            if (ZPartials) Chunks = Math.Min(Chunks, Math.Max(2, PartialBudgetFloats / Winograd3x3.WeightGradFloats(g)));
        }

        /// <summary>Fixed sample chunks of this call (depends on the geometry only).</summary>
        public int Chunks { get; }

        /// <summary>Weight partials are Winograd Z [16, Cout, Cin] (back-transformed once) rather than dWᵀ [K, Cout].</summary>
        private bool ZPartials => _weightWinograd || _weightHwc;

        private int Xs => _g.Cin * _g.InPixels;
        private int Ys => _g.Cout * _g.OutPixels;

        public BackwardScratch RentScratch() => new(
            _colsLen > 0 ? ArrayPool<float>.Shared.Rent(checked((int)_colsLen)) : null,
            // The channels-innermost path wants 64-byte aligned scratch (every zmm access then stays in one cache line).
            _dataHwc || _weightHwc
                ? PackBuffer.RentScratch(Math.Max(_dataHwc ? _dataPlan.ScratchFloats : 0, _weightHwc ? _weightPlan.ScratchFloats : 0))
                : null);

        /// <summary>A chunk's weight partial; the channels-innermost path adds into it, so it starts cleared.</summary>
        public float[] RentWeightPartial()
        {
            int length = ZPartials ? Winograd3x3.WeightGradFloats(_g) : _g.Cout * _g.ColRows;
            var a = ArrayPool<float>.Shared.Rent(length);
            if (_weightHwc) a.AsSpan(0, length).Clear();
            return a;
        }

        public void BiasGradChunk(float[] dy, float[] myDb, int n0, int n1)
        {
            int p = _g.OutPixels;
            for (int n = n0; n < n1; n++)
                for (int co = 0; co < _g.Cout; co++) myDb[co] += TensorPrimitives.Sum(dy.AsSpan(n * Ys + co * p, p));
        }

        public void WeightGradChunk(float[] x, float[] dy, float[] myDw, int n0, int n1, in BackwardScratch scratch)
        {
            int xs = Xs, ys = Ys;
            if (_weightHwc)
                for (int n = n0; n < n1; n += _weightGroup)
                {
                    int s = Math.Min(_weightGroup, n1 - n);
                    fixed (float* px = x) fixed (float* pd = dy) fixed (float* pz = myDw)
                        WinogradHwc.WeightGradUnit(_g, _weightPlan, s, px + (long)n * xs, pd + (long)n * ys, pz, scratch.Hwc!.Pointer);
                }
            else if (_weightWinograd)
                for (int n = n0; n < n1; n += _weightGroup)
                {
                    int s = Math.Min(_weightGroup, n1 - n);
                    Winograd3x3.WeightGradGroup(_g, s, x.AsSpan(n * xs, s * xs), dy.AsSpan(n * ys, s * ys), myDw,
                        accumulate: n > n0, scratch.Cols, _gemmNT!);
                }
            else
                for (int n = n0; n < n1; n++)
                    WeightGradSample(_g, _mode, x.AsSpan(n * xs, xs), dy.AsSpan(n * ys, ys), scratch.Cols, _band, myDw, accumulate: n > n0);
        }

        public void DataGradChunk(float[] w, float[] dy, float[] dx, int n0, int n1, in BackwardScratch scratch)
        {
            int xs = Xs, ys = Ys, p = _g.OutPixels, k = _g.ColRows;
            if (_dataHwc)
            {
                for (int n = n0; n < n1; n += _dataGroup)
                {
                    int s = Math.Min(_dataGroup, n1 - n);
                    fixed (float* pd = dy) fixed (float* px = dx)
                        WinogradHwc.ForwardUnit(_dataGeo, _dataPlan, s, _dataPacked!.Pointer, pd + (long)n * ys, null, px + (long)n * xs,
                            scratch.Hwc!.Pointer);
                }
                return;
            }
            if (_dataWinograd)
            {
                for (int n = n0; n < n1; n += _dataGroup)
                {
                    int s = Math.Min(_dataGroup, n1 - n);
                    Winograd3x3.ForwardGroup(_dataGeo, s, _dataU!, dy.AsSpan(n * ys, s * ys), [], dx.AsSpan(n * xs, s * xs), scratch.Cols, _gemm!);
                }
                return;
            }
            float[]? cols = scratch.Cols;
            for (int n = n0; n < n1; n++)
            {
                ReadOnlySpan<float> dyn = dy.AsSpan(n * ys, ys);
                Span<float> dxn = dx.AsSpan(n * xs, xs);
                if (_g.IsPointwise)
                    Sgemm(_mode, true, false, _g.Cin, p, _g.Cout, w, _g.Cin, dyn, p, 0f, dxn, p);
                else if (_dataAsConv)
                {
                    // dX_n = W_flip[Cin, Cout·Kh·Kw] · im2col(dY_n) with padding K−1−P: no scatter needed.
                    int kd = _dataGeo.ColRows, pd = _dataGeo.OutPixels;
                    for (int oy0 = 0; oy0 < _dataGeo.OutH; oy0 += _dataBand)
                    {
                        int oy1 = Math.Min(_dataGeo.OutH, oy0 + _dataBand), bp = (oy1 - oy0) * _dataGeo.OutW;
                        Im2Col.Pack(_dataGeo, dyn, cols, bp, oy0, oy1);
                        Sgemm(_mode, false, false, _g.Cin, bp, kd, _flipped, kd, cols, bp, 0f, dxn[(oy0 * _dataGeo.OutW)..], pd);
                    }
                }
                else
                {
                    // dcols[K, P] = Wᵀ · dY_n, then scatter-add back onto the pixels (col2im).
                    Sgemm(_mode, true, false, k, p, _g.Cout, w, k, dyn, p, 0f, cols, p);
                    dxn.Clear();
                    Im2Col.Unpack(_g, cols, p, dxn);
                }
            }
        }

        /// <summary>dw and db from the chunks' partial sums, added in chunk order (returns the partials to the pool).</summary>
        public void Reduce(float[]?[] dwParts, float[]?[] dbParts, float[]? dw, float[]? db)
        {
            int k = _g.ColRows, chunks = dwParts.Length;
            for (int i = 0; i < chunks; i++)
            {
                float[]? pdw = dwParts[i], pdb = dbParts[i];
                if (dw != null && pdw != null && ZPartials)
                {
                    // Sum the Z partials into the first, in chunk order; back-transformed once below.
                    if (i > 0)
                    {
                        int zl = Winograd3x3.WeightGradFloats(_g);
                        TensorPrimitives.Add(dwParts[0].AsSpan(0, zl), pdw.AsSpan(0, zl), dwParts[0].AsSpan(0, zl));
                        ArrayPool<float>.Shared.Return(pdw);
                    }
                }
                else if (dw != null && pdw != null)
                {
                    // Partials hold dWᵀ [K, Cout]; dw is [Cout, K].
                    for (int co = 0; co < _g.Cout; co++)
                    {
                        Span<float> row = dw.AsSpan(co * k, k);
                        if (i == 0) for (int r = 0; r < k; r++) row[r] = pdw[r * _g.Cout + co];
                        else for (int r = 0; r < k; r++) row[r] += pdw[r * _g.Cout + co];
                    }
                    ArrayPool<float>.Shared.Return(pdw);
                }
                if (db != null && pdb != null)
                {
                    if (i == 0) pdb.AsSpan(0, db.Length).CopyTo(db);
                    else TensorPrimitives.Add(db, pdb.AsSpan(0, db.Length), db);
                }
            }
            if (dw != null && ZPartials && chunks > 0 && dwParts[0] is { } z)
            {
                if (_weightHwc)
                    fixed (float* pz = z) fixed (float* pw = dw) WinogradHwc.FinishWeightGrad(_g.Cout, _g.Cin, pz, pw);
                else
                    Winograd3x3.FinishWeightGrad(_g.Cout, _g.Cin, z, dw);
                ArrayPool<float>.Shared.Return(z);
            }
            if (chunks == 0)
            {
                dw?.AsSpan().Clear();
                db?.AsSpan().Clear();
            }
        }

        public void Dispose()
        {
            if (_flipped != null) ArrayPool<float>.Shared.Return(_flipped);
            if (_dataPacked != null) PackBuffer.ReturnWeights(_dataPacked);
            if (_dataU != null) ArrayPool<float>.Shared.Return(_dataU);
        }
    }
}
