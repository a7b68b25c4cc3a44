using Cedm.Tensors;
using Cedm.Tensors.Autograd;
using Cedm.Tensors.Kernels;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Tensors;

/// <summary>Conv2d (im2col/GEMM kernels vs the direct reference, gradients, PyTorch fixtures) and shape errors.</summary>
public class ConvolutionTests
{
    /// <summary>
    /// Fast float32 path vs the double-accumulating reference: sums of at most ~200 products of O(1) values in
    /// a different order, so a few float32 ulps of the partial sums (≈1e-6 relative each) — 1e-4 leaves ample room
    /// while any indexing bug gives O(1) errors.
    /// </summary>
    private const float KernelTolerance = 1e-4f;

    /// <summary>
    /// Against PyTorch's float64 results: our float32 accumulation over up to 2·5·5·N·H·W terms (weight gradient)
    /// rounds at ~1e-7 per term; 2e-4 absolute+relative covers that with margin.
    /// </summary>
    private const float FixtureTolerance = 2e-4f;

    private static readonly ConvThreading[] AllThreadings =
        [ConvThreading.SamplesManaged, ConvThreading.SamplesShared, ConvThreading.SerialSamples];

    public static IEnumerable<object[]> KernelShapes()
    {
        // (n, cin, cout, h, w, kh, kw, sh, sw, ph, pw): kernels 1/3/5/non-square, strides 1/2, paddings 0/1/2, odd sizes.
        (int, int)[] kernels = [(1, 1), (3, 3), (5, 5), (2, 3), (3, 1)];
        int i = 0;
        foreach (var (kh, kw) in kernels)
            foreach (int s in new[] { 1, 2 })
                foreach (int p in new[] { 0, 1, 2 })
                {
                    i++;
                    int n = 1 + i % 3, cin = 1 + (i * 5) % 8, cout = 1 + (i * 3) % 8, h = 5 + i % 4, w = 4 + (i * 7) % 5;
                    if (h + 2 * p < kh || w + 2 * p < kw) continue;
                    yield return [n, cin, cout, h, w, kh, kw, s, s, p, p];
                }
        // Separate vertical/horizontal stride and padding, and sizes big enough to run the multi-worker path.
        yield return new object[] { 2, 3, 4, 7, 9, 3, 3, 1, 2, 1, 0 };
        yield return new object[] { 2, 3, 4, 8, 6, 3, 5, 2, 1, 0, 2 };
        yield return new object[] { 3, 8, 8, 16, 16, 3, 3, 1, 1, 1, 1 };
        yield return new object[] { 3, 8, 6, 15, 17, 3, 3, 2, 2, 1, 1 };
        yield return new object[] { 3, 8, 8, 16, 16, 1, 1, 1, 1, 0, 0 };
        // ≥ 16 channels, 3×3 stride 1: the Winograd path (forward and input gradient), with odd sizes so both the
        // 8-tile vector blocks and the tails (and cropped last tile row/column) run.
        yield return new object[] { 2, 16, 16, 9, 17, 3, 3, 1, 1, 1, 1 };
        yield return new object[] { 1, 16, 20, 8, 21, 3, 3, 1, 1, 0, 0 };
        yield return new object[] { 2, 17, 16, 5, 6, 3, 3, 1, 1, 2, 2 };
        yield return new object[] { 1, 16, 16, 6, 35, 3, 3, 1, 1, 1, 0 };
        // Batches big enough that Winograd groups several small images into one set of GEMMs, including short
        // last groups, odd output sizes (cropped tiles) and rows of ≥ 8 tiles (vector gradient transform + tail).
        yield return new object[] { 9, 16, 16, 5, 6, 3, 3, 1, 1, 1, 1 };
        yield return new object[] { 13, 16, 17, 7, 9, 3, 3, 1, 1, 0, 0 };
        yield return new object[] { 8, 16, 16, 17, 19, 3, 3, 1, 1, 1, 1 };
        yield return new object[] { 8, 18, 16, 18, 20, 3, 3, 1, 1, 1, 1 };
        // Channel counts that are multiples of 16: the channels-innermost AVX-512 path (WinogradHwc) where the CPU has
        // it. Covers 32- and 16-wide output panels (48, 80), one and several 16-channel chunks, grouped small images
        // with a short last 12-tile group, blocks split within an image (32×32 at 128 channels), odd and cropped
        // sizes and paddings 0/1/2.
        yield return new object[] { 2, 16, 16, 6, 6, 3, 3, 1, 1, 1, 1 };
        yield return new object[] { 3, 32, 48, 9, 7, 3, 3, 1, 1, 1, 1 };
        yield return new object[] { 9, 48, 32, 4, 4, 3, 3, 1, 1, 1, 1 };
        yield return new object[] { 5, 64, 80, 7, 7, 3, 3, 1, 1, 0, 0 };
        yield return new object[] { 4, 32, 32, 5, 8, 3, 3, 1, 1, 2, 2 };
        yield return new object[] { 2, 128, 64, 32, 32, 3, 3, 1, 1, 1, 1 };
        yield return new object[] { 13, 64, 16, 2, 2, 3, 3, 1, 1, 1, 1 };
        // A U-Net's first convs (from 1 or 3 image channels: im2col) and last convs (down to them: zero-padded to 16
        // channels on the AVX-512 Winograd path).
        yield return new object[] { 3, 1, 32, 8, 9, 3, 3, 1, 1, 1, 1 };
        yield return new object[] { 3, 32, 1, 8, 9, 3, 3, 1, 1, 1, 1 };
        yield return new object[] { 2, 3, 48, 7, 6, 3, 3, 1, 1, 1, 1 };
        yield return new object[] { 2, 40, 3, 7, 6, 3, 3, 1, 1, 0, 0 };
    }

    [Theory]
    [MemberData(nameof(KernelShapes))]
    public void FastKernelsMatchReference(int n, int cin, int cout, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw)
    {
        var g = new Conv2dGeometry(n, cin, h, w, cout, kh, kw, sh, sw, ph, pw);
        var rng = new Rng((ulong)(n * 1000 + cin * 100 + cout * 10 + kh + kw + sh + ph));
        float[] x = Tensor.Randn(rng, [n, cin, h, w]).Data, wt = Tensor.Randn(rng, [cout, cin, kh, kw]).Data;
        float[] b = Tensor.Randn(rng, [cout]).Data, dy = Tensor.Randn(rng, [n, cout, g.OutH, g.OutW]).Data;

        var yRef = new float[dy.Length];
        Conv2dReference.Forward(g, x, wt, b, yRef);
        float[] dxRef = new float[x.Length], dwRef = new float[wt.Length], dbRef = new float[cout];
        Conv2dReference.Backward(g, x, wt, dy, dxRef, dwRef, dbRef);

        foreach (var mode in AllThreadings)
        {
            var y = new float[dy.Length];
            y.AsSpan().Fill(float.NaN); // the kernel must overwrite every element
            Conv2dKernels.Forward(g, x, wt, b, y, mode);
            AssertClose(yRef, y, KernelTolerance, $"forward {mode} {g}");
            float[] dx = Nans(x.Length), dw = Nans(wt.Length), db = Nans(cout);
            Conv2dKernels.Backward(g, x, wt, dy, dx, dw, db, mode);
            AssertClose(dxRef, dx, KernelTolerance, $"dx {mode} {g}");
            AssertClose(dwRef, dw, KernelTolerance, $"dw {mode} {g}");
            AssertClose(dbRef, db, KernelTolerance, $"db {mode} {g}");
        }
    }

    [Fact]
    public void BandedIm2ColMatchesReference()
    {
        // A tiny band budget forces several output-row bands per sample (and a short last band).
        using (EnginePolicy.Override(p => p with { Im2ColBandFloats = 100 }))
        {
            FastKernelsMatchReference(2, 2, 3, 9, 7, 3, 3, 1, 1, 1, 1);
            FastKernelsMatchReference(2, 2, 3, 11, 7, 3, 2, 2, 1, 1, 0);
        }
    }

    [Fact]
    public void WinogradGroupSizesMatchReference()
    {
        // From one image per GEMM (the per-sample layout) to the whole batch in one group.
        foreach (int target in new[] { 1, 40, 100000 })
        {
            using var _ = EnginePolicy.Override(p => p with { WinogradTargetTiles = target });
            FastKernelsMatchReference(12, 16, 16, 8, 8, 3, 3, 1, 1, 1, 1);
            FastKernelsMatchReference(7, 16, 20, 9, 5, 3, 3, 1, 1, 1, 1);
        }
    }

    [Fact]
    public void PortableWinogradMatchesReferenceWhereTheAvx512PathWouldRun()
    {
        // On AVX-512 machines these shapes take WinogradHwc; switched off, the portable Winograd3x3 path must agree too.
        using (EnginePolicy.Override(p => p with { Avx512Winograd = false }))
        {
            FastKernelsMatchReference(3, 32, 48, 9, 7, 3, 3, 1, 1, 1, 1);
            FastKernelsMatchReference(9, 48, 32, 4, 4, 3, 3, 1, 1, 1, 1);
        }
    }

    [Fact]
    public void Avx512WinogradUnitSizesMatchReference()
    {
        // One image per unit up to the whole batch in one unit (several 12-tile groups and blocks spanning images).
        foreach (int target in new[] { 1, 50, 100000 })
        {
            using var _ = EnginePolicy.Override(p => p with { HwcTargetTiles = target });
            FastKernelsMatchReference(12, 16, 32, 8, 8, 3, 3, 1, 1, 1, 1);
            FastKernelsMatchReference(7, 32, 16, 9, 5, 3, 3, 1, 1, 1, 1);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public unsafe void TransposeMovesEveryElement(bool avx2)
    {
        // The kernels need their instruction sets.
        if (avx2 ? !System.Runtime.Intrinsics.X86.Avx2.IsSupported : !System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) return;
        // Rows 20 floats apart in the source, columns written to scattered destination offsets.
        float[] src = new float[16 * 20], dst = new float[16 * 40];
        for (int r = 0; r < 16; r++) for (int c = 0; c < 16; c++) src[r * 20 + c] = r * 100 + c;
        long* srcAt = stackalloc long[16], dstAt = stackalloc long[16];
        for (int k = 0; k < 16; k++) { srcAt[k] = k * 20; dstAt[k] = (15 - k) * 40 + 3; }
        fixed (float* ps = src) fixed (float* pd = dst)
        {
            if (avx2) WinogradHwc.Transpose16Avx2(ps, srcAt, pd, dstAt);
            else WinogradHwc.Transpose16(ps, srcAt, pd, dstAt);
        }
        for (int j = 0; j < 16; j++)
            for (int k = 0; k < 16; k++)
                Assert.Equal(k * 100 + j, dst[(15 - j) * 40 + 3 + k]);
    }

    /// <summary>The channels-innermost Winograd path with its AVX2 kernels forced (what machines without AVX-512 run).</summary>
    [Fact]
    public void Avx2WinogradKernelsMatchReference()
    {
        if (WinogradHwc.ResolveIsa(ManagedKernel.Avx2) != ManagedKernel.Avx2) return; // no AVX2 + FMA here
        using var _ = EnginePolicy.Override(p => p with { HwcKernel = ManagedKernel.Avx2 });
        WinogradHwc.UseAvx2Kernels.Should().BeTrue();
        foreach (var shape in new[]
        {
            new[] { 2, 16, 16, 6, 6 }, [3, 32, 48, 9, 7], [9, 48, 32, 4, 4], [5, 64, 80, 7, 7], [2, 128, 64, 32, 32], [13, 64, 16, 2, 2],
        })
            FastKernelsMatchReference(shape[0], shape[1], shape[2], shape[3], shape[4], 3, 3, 1, 1, 1, 1);
        FastKernelsMatchReference(3, 32, 1, 8, 9, 3, 3, 1, 1, 1, 1); // padded to 16 output channels
    }

    /// <summary>Where both run, the AVX2 kernels give the AVX-512 kernels' results bit for bit (same FMA chains).</summary>
    [Fact]
    public void Avx2AndAvx512WinogradKernelsAgreeBitwise()
    {
        if (WinogradHwc.ResolveIsa(ManagedKernel.Avx512) != ManagedKernel.Avx512 || WinogradHwc.ResolveIsa(ManagedKernel.Avx2) != ManagedKernel.Avx2) return;
        var g = new Conv2dGeometry(7, 48, 9, 11, 80, 3, 3, 1, 1, 1, 1);
        var rng = new Rng(21);
        float[] x = Tensor.Randn(rng, [7, 48, 9, 11]).Data, wt = Tensor.Randn(rng, [80, 48, 3, 3]).Data, b = Tensor.Randn(rng, [80]).Data;
        float[] dy = Tensor.Randn(rng, [7, 80, 9, 11]).Data;
        (float[] Y, float[] Dx, float[] Dw) Run(ManagedKernel kernel)
        {
            using var _ = EnginePolicy.Override(p => p with { HwcKernel = kernel });
            float[] y = new float[dy.Length], dx = new float[x.Length], dw = new float[wt.Length], db = new float[80];
            Conv2dKernels.Forward(g, x, wt, b, y);
            Conv2dKernels.Backward(g, x, wt, dy, dx, dw, db);
            return (y, dx, dw);
        }
        var wide = Run(ManagedKernel.Avx512);
        var narrow = Run(ManagedKernel.Avx2);
        narrow.Y.Should().Equal(wide.Y);
        narrow.Dx.Should().Equal(wide.Dx);
        narrow.Dw.Should().Equal(wide.Dw);
    }

    [Fact]
    public void WeightGradientIsBitwiseReproducible()
    {
        // Workers claim sample chunks dynamically, but partial sums are per fixed chunk and added in chunk order.
        var g = new Conv2dGeometry(20, 8, 12, 12, 8, 3, 3, 1, 1, 1, 1);
        var rng = new Rng(9);
        float[] x = Tensor.Randn(rng, [20, 8, 12, 12]).Data, wt = Tensor.Randn(rng, [8, 8, 3, 3]).Data, dy = Tensor.Randn(rng, [20, 8, 12, 12]).Data;
        float[] dw1 = new float[wt.Length], db1 = new float[8];
        Conv2dKernels.Backward(g, x, wt, dy, null, dw1, db1);
        for (int run = 0; run < 3; run++)
        {
            float[] dw2 = new float[wt.Length], db2 = new float[8];
            Conv2dKernels.Backward(g, x, wt, dy, null, dw2, db2);
            Assert.Equal(dw1, dw2);
            Assert.Equal(db1, db2);
        }
    }

    [Fact]
    public void ForwardWithoutBiasAndPartialGradients()
    {
        var g = new Conv2dGeometry(2, 3, 6, 6, 4, 3, 3, 1, 1, 1, 1);
        var rng = new Rng(5);
        float[] x = Tensor.Randn(rng, [2, 3, 6, 6]).Data, wt = Tensor.Randn(rng, [4, 3, 3, 3]).Data, dy = Tensor.Randn(rng, [2, 4, 6, 6]).Data;
        float[] yRef = new float[dy.Length], y = new float[dy.Length];
        Conv2dReference.Forward(g, x, wt, [], yRef);
        Conv2dKernels.Forward(g, x, wt, [], y);
        AssertClose(yRef, y, KernelTolerance, "no bias");
        float[] dwRef = new float[wt.Length], dw = new float[wt.Length];
        Conv2dReference.Backward(g, x, wt, dy, [], dwRef, []);
        Conv2dKernels.Backward(g, x, wt, dy, null, dw, null);
        AssertClose(dwRef, dw, KernelTolerance, "weight gradient only");
    }

    [Theory]
    [InlineData(3, 3, 1, 1)] // stride 1: input gradient as a flipped-kernel convolution
    [InlineData(3, 3, 2, 1)] // stride 2: input gradient through col2im
    [InlineData(1, 1, 1, 0)] // pointwise: plain GEMMs
    [InlineData(2, 3, 2, 0)] // non-square kernel
    [InlineData(3, 3, 1, 3)] // padding > k−1: falls back to col2im
    public void GradCheckInputWeightBias(int kh, int kw, int stride, int padding)
    {
        var rng = new Rng(77);
        var x = Tensor.Randn(rng, [2, 3, 6, 5]).RequireGrad();
        var w = Tensor.Randn(rng, [4, 3, kh, kw], std: 0.5f).RequireGrad();
        var b = Tensor.Randn(rng, [4]).RequireGrad();
        var r = GradCheck.Check(t => Tensor.Conv2d(t[0], t[1], t[2], stride, padding), [x, w, b]);
        Assert.True(r.Passed, r.ToString());
        var r2 = GradCheck.Check(t => Tensor.Conv2d(t[0], t[1], null, stride, padding), [x, w]);
        Assert.True(r2.Passed, r2.ToString());
    }

    [Fact]
    public void GradCheckWinogradPath()
    {
        // 16 channels, 3×3 stride 1: forward, input and weight gradients all take the Winograd kernels.
        var rng = new Rng(78);
        var x = Tensor.Randn(rng, [1, 16, 4, 5]).RequireGrad();
        var w = Tensor.Randn(rng, [16, 16, 3, 3], std: 0.2f).RequireGrad();
        var b = Tensor.Randn(rng, [16]).RequireGrad();
        var r = GradCheck.Check(t => Tensor.Conv2d(t[0], t[1], t[2], 1, 1), [x, w, b]);
        Assert.True(r.Passed, r.ToString());
    }

    [Fact]
    public void OutputShapeFollowsFloorFormula()
    {
        var y = Tensor.Conv2d(Tensor.Zeros(2, 3, 9, 8), Tensor.Zeros(5, 3, 3, 3), null, stride: 2, padding: 1);
        Assert.Equal(new[] { 2, 5, 5, 4 }, y.ShapeArray()); // floor((9+2−3)/2)+1 = 5, floor((8+2−3)/2)+1 = 4
        var z = Tensor.Conv2d(Tensor.Zeros(1, 2, 7, 7), Tensor.Zeros(4, 2, 1, 1), Tensor.Zeros(4));
        Assert.Equal(new[] { 1, 4, 7, 7 }, z.ShapeArray());
    }

    [Fact]
    public void ShapeErrorsNameTheShapes()
    {
        var x = Tensor.Zeros(2, 3, 8, 8);
        var e = Assert.Throws<ArgumentException>(() => Tensor.Conv2d(x, Tensor.Zeros(4, 5, 3, 3), null));
        Assert.Contains("[2, 3, 8, 8]", e.Message);
        Assert.Contains("[4, 5, 3, 3]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Tensor.Conv2d(Tensor.Zeros(3, 8, 8), Tensor.Zeros(4, 3, 3, 3), null));
        Assert.Contains("[3, 8, 8]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Tensor.Conv2d(x, Tensor.Zeros(4, 3, 3, 3), Tensor.Zeros(5)));
        Assert.Contains("bias", e.Message);
        Assert.Contains("[5]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Tensor.Conv2d(x, Tensor.Zeros(4, 3, 3, 3), null, stride: 0));
        Assert.Contains("stride", e.Message);
        e = Assert.Throws<ArgumentException>(() => Tensor.Conv2d(x, Tensor.Zeros(4, 3, 3, 3), null, padding: -1));
        Assert.Contains("padding", e.Message);
        e = Assert.Throws<ArgumentException>(() => Tensor.Conv2d(Tensor.Zeros(1, 3, 2, 2), Tensor.Zeros(4, 3, 5, 5), null));
        Assert.Contains("larger than the padded input", e.Message);
    }

    [Theory]
    [InlineData("conv2d_3x3_s1_p1")]
    [InlineData("conv2d_3x3_s2_p1")]
    [InlineData("conv2d_1x1")]
    [InlineData("conv2d_5x5_p2")]
    public void MatchesPyTorchFixture(string name)
    {
        var f = FixtureFile.Load($"ops/{name}.bin");
        var x = f["x"].RequireGrad();
        var w = f["weight"].RequireGrad();
        var b = f.Contains("bias") ? f["bias"].RequireGrad() : null;
        int stride = (int)f["stride"].Item(), padding = (int)f["padding"].Item();
        var y = Tensor.Conv2d(x, w, b, stride, padding);
        AssertClose(f["y"].Data, y.Data, FixtureTolerance, $"{name} y");
        y.Backward(f["gy"]);
        AssertClose(f["gx"].Data, x.Grad!.Data, FixtureTolerance, $"{name} gx");
        AssertClose(f["gweight"].Data, w.Grad!.Data, FixtureTolerance, $"{name} gweight");
        if (b != null) AssertClose(f["gbias"].Data, b.Grad!.Data, FixtureTolerance, $"{name} gbias");
    }

    internal static float[] Nans(int n)
    {
        var a = new float[n];
        a.AsSpan().Fill(float.NaN);
        return a;
    }

    /// <summary>|expected − actual| ≤ tol·(1 + |expected|) element-wise; reports the worst element.</summary>
    internal static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float e = expected[i], a = actual[i];
            if (!(MathF.Abs(e - a) <= tol * (1 + MathF.Abs(e))))
                Assert.Fail($"{what}: element {i} expected {e:G7}, got {a:G7} (tolerance {tol:G2}).");
        }
    }
}
