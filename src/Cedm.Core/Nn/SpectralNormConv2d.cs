using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Nn;

/// <summary>
/// A 2-D convolution whose weight is divided by its largest singular value σ (Miyato et al. 2018, as PyTorch's
/// <c>spectral_norm</c>): the weight [out, in, k, k] is read as a matrix W [out, in·k²]; σ ≈ uᵀ W v with u, v from one
/// power iteration per training forward (v ← Wᵀu/‖Wᵀu‖, u ← Wv/‖Wv‖, no gradient through them), and the layer convolves
/// with W/σ, differentiating through σ. In evaluation mode u and v stay as they are. Parameter paths are PyTorch's:
/// "weight_orig", "bias", buffers "weight_u", "weight_v" (CNN-TreeVAE's decoders, related-seeds A.5).
/// </summary>
public sealed class SpectralNormConv2d : Layer
{
    /// <summary>PyTorch's normalisation epsilon.</summary>
    public const float Eps = 1e-12f;

    public SpectralNormConv2d(int inChannels, int outChannels, int kernelSize, Rng rng, int stride = 1, int? padding = null, bool bias = true)
    {
        var conv = new Conv2d(inChannels, outChannels, kernelSize, rng, stride, padding, bias);
        Stride = conv.Stride; Padding = conv.Padding; InChannels = inChannels; OutChannels = outChannels;
        WeightOrig = RegisterParameter("weight_orig", conv.Weight);
        if (conv.Bias != null) Bias = RegisterParameter("bias", conv.Bias);
        int columns = inChannels * kernelSize * kernelSize;
        U = RegisterBuffer("weight_u", Normalised(Tensor.Randn(rng, [outChannels]).ToArray()));
        V = RegisterBuffer("weight_v", Normalised(Tensor.Randn(rng, [columns]).ToArray()));
    }

    public int InChannels { get; }

    public int OutChannels { get; }

    public int Stride { get; }

    public int Padding { get; }

    public Tensor WeightOrig { get; }

    public Tensor? Bias { get; }

    /// <summary>The left singular vector estimate [out].</summary>
    public Tensor U { get; }

    /// <summary>The right singular vector estimate [in·k²].</summary>
    public Tensor V { get; }

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 4 || x.Dim(1) != InChannels)
            throw new ArgumentException($"SpectralNormConv2d({InChannels}→{OutChannels}) expects [N, {InChannels}, H, W], got {Shapes.Format(x.Shape)}.");
        return Tensor.Conv2d(x, NormalisedWeight(), Bias, Stride, Padding);
    }

    /// <summary>W / σ with σ = uᵀ W v (after one power iteration in training mode).</summary>
    public Tensor NormalisedWeight()
    {
        int rows = OutChannels, columns = V.Size;
        if (IsTraining) PowerIteration(WeightOrig.Data, rows, columns, U.Data, V.Data);
        var matrix = WeightOrig.Reshape(rows, columns);
        Tensor u, v;
        using (GradMode.NoGrad()) { u = U.Detach().Reshape(1, rows); v = V.Detach().Reshape(1, columns); }
        var sigma = (Tensor.Linear(v, matrix) * u).Sum();
        return WeightOrig / sigma;
    }

    /// <summary>v ← Wᵀu/‖Wᵀu‖, then u ← Wv/‖Wv‖, in place (W row-major [rows, columns]).</summary>
    internal static void PowerIteration(float[] w, int rows, int columns, float[] u, float[] v)
    {
        var nv = new double[columns];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++) nv[c] += (double)w[r * columns + c] * u[r];
        Store(nv, v);
        var nu = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            double s = 0;
            for (int c = 0; c < columns; c++) s += (double)w[r * columns + c] * v[c];
            nu[r] = s;
        }
        Store(nu, u);
    }

    private static void Store(double[] source, float[] target)
    {
        double norm = Math.Sqrt(source.Sum(t => t * t));
        double scale = 1 / Math.Max(norm, Eps);
        for (int i = 0; i < source.Length; i++) target[i] = (float)(source[i] * scale);
    }

    private static Tensor Normalised(float[] values)
    {
        var d = values.Select(t => (double)t).ToArray();
        var result = new float[values.Length];
        Store(d, result);
        return new Tensor(result, values.Length);
    }
}
