namespace Cedm.Tensors.Kernels;

/// <summary>
/// The taps of a 1-D resampling along one axis: output i = Σ_t Weight[t]·input[Index[t]] for t in
/// [Offsets[i], Offsets[i+1]). Built once per (sizes, filter) and applied separably by <see cref="SeparableResize"/>.
/// Two constructions, both PyTorch's <c>F.interpolate(..., align_corners=False)</c>:
/// <list type="bullet">
/// <item>plain (antialias=False): source coordinate (i + 0.5)·scale − 0.5 with scale = input pixels per output
/// pixel; bilinear clamps the coordinate at 0 and uses the 2 neighbours, bicubic uses 4 neighbours with a = −0.75
/// and clamps their indices to the image (replicated border). Downscaling then aliases, as in PyTorch.</item>
/// <item>antialiased (antialias=True, the PIL <c>Image.resize</c> construction): the kernel is stretched by the
/// scale when shrinking, centred at (i + 0.5)·scale, cut to the image and renormalised to sum 1; bicubic a = −0.5.
/// When growing it is the unstretched kernel, renormalised at the borders.</item>
/// </list>
/// Weights are computed in double and stored as float.
/// </summary>
internal sealed class ResizeAxis
{
    private ResizeAxis(int inSize, int outSize, int[] offsets, int[] index, float[] weight)
    {
        InSize = inSize; OutSize = outSize; Offsets = offsets; Index = index; Weight = weight;
    }

    public int InSize { get; }
    public int OutSize { get; }
    public int[] Offsets { get; }
    public int[] Index { get; }
    public float[] Weight { get; }

    /// <param name="scale">Input pixels per output pixel used to map coordinates; normally inSize/outSize, but
    /// PyTorch uses 1/scale_factor when the caller passed a scale factor (DINO's positional-embedding resize does).</param>
    public static ResizeAxis Build(int inSize, int outSize, ResizeFilter filter, bool antialias, double scale)
    {
        var offsets = new int[outSize + 1];
        var index = new List<int>(outSize * 4);
        var weight = new List<float>(outSize * 4);
        for (int i = 0; i < outSize; i++)
        {
            if (antialias) AddAntialiased(i, inSize, filter, scale, index, weight);
            else if (filter == ResizeFilter.Bilinear) AddBilinear(i, inSize, scale, index, weight);
            else AddBicubic(i, inSize, scale, index, weight);
            offsets[i + 1] = index.Count;
        }
        return new ResizeAxis(inSize, outSize, offsets, [.. index], [.. weight]);
    }

    private static void AddBilinear(int i, int inSize, double scale, List<int> index, List<float> weight)
    {
        double real = Math.Max(scale * (i + 0.5) - 0.5, 0.0);
        int i0 = Math.Min((int)real, inSize - 1);
        int i1 = i0 < inSize - 1 ? i0 + 1 : i0;
        double l1 = real - i0;
        index.Add(i0); weight.Add((float)(1.0 - l1));
        index.Add(i1); weight.Add((float)l1);
    }

    private static void AddBicubic(int i, int inSize, double scale, List<int> index, List<float> weight)
    {
        const double A = -0.75;
        double real = scale * (i + 0.5) - 0.5;
        double fl = Math.Floor(real), t = real - fl;
        int i0 = (int)fl;
        ReadOnlySpan<double> w = [Cubic(t + 1, A), Cubic(t, A), Cubic(1 - t, A), Cubic(2 - t, A)];
        for (int j = 0; j < 4; j++)
        {
            index.Add(Math.Clamp(i0 - 1 + j, 0, inSize - 1));
            weight.Add((float)w[j]);
        }
    }

    private static void AddAntialiased(int i, int inSize, ResizeFilter filter, double scale, List<int> index, List<float> weight)
    {
        var (lo, w) = AntialiasedTaps(i, inSize, filter, scale);
        for (int j = 0; j < w.Length; j++) { index.Add(lo + j); weight.Add((float)w[j]); }
    }

    /// <summary>
    /// PIL's <c>precompute_coeffs</c> for output <paramref name="i"/>: the first input index and the normalised
    /// double weights of the kernel stretched by max(scale, 1) and centred at (i + 0.5)·scale.
    /// </summary>
    internal static (int Lo, double[] Weights) AntialiasedTaps(int i, int inSize, ResizeFilter filter, double scale)
    {
        double radius = filter == ResizeFilter.Bilinear ? 1.0 : 2.0;
        double stretch = Math.Max(scale, 1.0), support = radius * stretch, center = scale * (i + 0.5);
        int lo = Math.Max((int)(center - support + 0.5), 0);
        int hi = Math.Min((int)(center + support + 0.5), inSize);
        var w = new double[Math.Max(hi - lo, 0)];
        double total = 0;
        for (int j = lo; j < hi; j++)
        {
            double x = (j - center + 0.5) / stretch;
            w[j - lo] = filter == ResizeFilter.Bilinear ? Math.Max(0.0, 1.0 - Math.Abs(x)) : Cubic(x, -0.5);
            total += w[j - lo];
        }
        if (total != 0) for (int j = 0; j < w.Length; j++) w[j] /= total;
        return (lo, w);
    }

    /// <summary>Keys' cubic convolution kernel with parameter a, for any x.</summary>
    private static double Cubic(double x, double a)
    {
        x = Math.Abs(x);
        if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
        if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
        return 0;
    }
}

/// <summary>Separable resampling of one [H, W] plane with two <see cref="ResizeAxis"/> tables (width pass first).</summary>
internal static class SeparableResize
{
    /// <summary>dst [ay.OutSize, ax.OutSize] from src [ay.InSize, ax.InSize]; <paramref name="tmp"/> holds ay.InSize·ax.OutSize floats.</summary>
    public static void Forward(ResizeAxis ay, ResizeAxis ax, ReadOnlySpan<float> src, Span<float> tmp, Span<float> dst)
    {
        int w = ax.InSize, ow = ax.OutSize;
        for (int y = 0; y < ay.InSize; y++)
        {
            ReadOnlySpan<float> row = src.Slice(y * w, w);
            Span<float> t = tmp.Slice(y * ow, ow);
            for (int o = 0; o < ow; o++)
            {
                float s = 0f;
                for (int k = ax.Offsets[o]; k < ax.Offsets[o + 1]; k++) s += ax.Weight[k] * row[ax.Index[k]];
                t[o] = s;
            }
        }
        for (int o = 0; o < ay.OutSize; o++)
        {
            Span<float> d = dst.Slice(o * ow, ow);
            d.Clear();
            for (int k = ay.Offsets[o]; k < ay.Offsets[o + 1]; k++)
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(tmp.Slice(ay.Index[k] * ow, ow), ay.Weight[k], d, d);
        }
    }

    /// <summary>The adjoint of <see cref="Forward"/>: gIn [ay.InSize, ax.InSize] (overwritten) from gOut.</summary>
    public static void Backward(ResizeAxis ay, ResizeAxis ax, ReadOnlySpan<float> gOut, Span<float> tmp, Span<float> gIn)
    {
        int w = ax.InSize, ow = ax.OutSize;
        tmp.Slice(0, ay.InSize * ow).Clear();
        for (int o = 0; o < ay.OutSize; o++)
        {
            ReadOnlySpan<float> g = gOut.Slice(o * ow, ow);
            for (int k = ay.Offsets[o]; k < ay.Offsets[o + 1]; k++)
            {
                Span<float> t = tmp.Slice(ay.Index[k] * ow, ow);
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(g, ay.Weight[k], t, t);
            }
        }
        gIn.Clear();
        for (int y = 0; y < ay.InSize; y++)
        {
            ReadOnlySpan<float> t = tmp.Slice(y * ow, ow);
            Span<float> row = gIn.Slice(y * w, w);
            for (int o = 0; o < ow; o++)
                for (int k = ax.Offsets[o]; k < ax.Offsets[o + 1]; k++) row[ax.Index[k]] += ax.Weight[k] * t[o];
        }
    }
}
