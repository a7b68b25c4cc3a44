using Cedm.Tensors.Kernels;

namespace Cedm.Tensors;

// Group normalisation (with the UNet's GN → SiLU fused in) and layer normalisation (spec §2.1).
// Statistics are biased (divide by the count), as in PyTorch; the kernels document their backward.
public sealed partial class Tensor
{
    /// <summary>
    /// Group normalisation of x [N, C, ...] (any trailing spatial dims, including none): per sample and group of
    /// C/<paramref name="groups"/> consecutive channels, (x − μ)/sqrt(var + eps), then γ_c·x̂ + β_c per channel
    /// (γ, β of shape [C], or null for 1 and 0). With <paramref name="silu"/> the SiLU that follows every
    /// GroupNorm in a UNet block (spec §2.2) is applied in the same pass, forward and backward.
    /// SongUNet uses groups = min(32, C/4) and eps = 1e-6 (spec §2.1).
    /// </summary>
    public static Tensor GroupNorm(Tensor x, int groups, Tensor? gamma, Tensor? beta, float eps = 1e-5f, bool silu = false)
    {
        if (x.Rank < 2)
            throw new ArgumentException($"GroupNorm expects x of shape [N, C, ...], got {Shapes.Format(x._shape)}.");
        int n = x._shape[0], c = x._shape[1], s = x.Size / Math.Max(1, n * c);
        if (groups < 1 || c % groups != 0)
            throw new ArgumentException($"GroupNorm: {groups} groups do not divide the {c} channels of {Shapes.Format(x._shape)}.");
        RequireChannelVector(gamma, c, "GroupNorm gamma", x);
        RequireChannelVector(beta, c, "GroupNorm beta", x);
        if (!(eps >= 0f) || float.IsInfinity(eps)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "GroupNorm eps must be finite and >= 0.");

        var y = Uninitialized(x._shape);
        var mean = new double[n * groups];
        var rstd = new float[n * groups];
        if (y.Size > 0) GroupNormKernel.Forward(x._data, y._data, n, c, s, groups, gamma?._data, beta?._data, eps, silu, mean, rstd);
        var inputs = new List<Tensor> { x };
        if (gamma != null) inputs.Add(gamma);
        if (beta != null) inputs.Add(beta);
        return y.Record(silu ? "group_norm_silu" : "group_norm", [.. inputs], g =>
        {
            bool wantX = x.RequiresGrad, wantGamma = gamma?.RequiresGrad == true, wantBeta = beta?.RequiresGrad == true;
            var gx = wantX || silu ? Uninitialized(x._shape) : null;
            var sumG = new double[n * c];
            var sumGX = new double[n * c];
            if (y.Size > 0)
                GroupNormKernel.Backward(x._data, g._data, gx?._data, n, c, s, groups, gamma?._data, beta?._data, silu, mean, rstd, sumG, sumGX);
            if (wantX) x.AccumulateGrad(gx!, owned: true);
            if (wantGamma || wantBeta)
            {
                var dGamma = wantGamma ? Uninitialized([c]) : null;
                var dBeta = wantBeta ? Uninitialized([c]) : null;
                GroupNormKernel.ReduceAffine(n, c, groups, rstd, sumG, sumGX, dGamma?._data, dBeta?._data);
                if (dGamma != null) gamma!.AccumulateGrad(dGamma, owned: true);
                if (dBeta != null) beta!.AccumulateGrad(dBeta, owned: true);
            }
        });
    }

    /// <summary>
    /// Layer normalisation over the last dimension D: (x − μ)/sqrt(var + eps)·γ + β with γ, β of shape [D] or null.
    /// </summary>
    public static Tensor LayerNorm(Tensor x, Tensor? gamma, Tensor? beta, float eps = 1e-5f)
    {
        if (x.Rank < 1 || x._shape[^1] == 0)
            throw new ArgumentException($"LayerNorm expects x of shape [..., D] with D > 0, got {Shapes.Format(x._shape)}.");
        int d = x._shape[^1], rows = x.Size / d;
        RequireChannelVector(gamma, d, "LayerNorm gamma", x);
        RequireChannelVector(beta, d, "LayerNorm beta", x);
        if (!(eps >= 0f) || float.IsInfinity(eps)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "LayerNorm eps must be finite and >= 0.");

        var y = Uninitialized(x._shape);
        var mean = new float[rows];
        var rstd = new float[rows];
        LayerNormKernel.Forward(x._data, y._data, rows, d, gamma?._data, beta?._data, eps, mean, rstd);
        var inputs = new List<Tensor> { x };
        if (gamma != null) inputs.Add(gamma);
        if (beta != null) inputs.Add(beta);
        return y.Record("layer_norm", [.. inputs], g =>
        {
            var gx = x.RequiresGrad ? Uninitialized(x._shape) : null;
            var dGamma = gamma?.RequiresGrad == true ? new double[d] : null;
            var dBeta = beta?.RequiresGrad == true ? new double[d] : null;
            LayerNormKernel.Backward(x._data, g._data, gx?._data, rows, d, gamma?._data, mean, rstd, dGamma, dBeta);
            if (gx != null) x.AccumulateGrad(gx, owned: true);
            if (dGamma != null) gamma!.AccumulateGrad(FromDoubles(dGamma), owned: true);
            if (dBeta != null) beta!.AccumulateGrad(FromDoubles(dBeta), owned: true);
        });
    }

    private static Tensor FromDoubles(double[] v)
    {
        var t = Uninitialized([v.Length]);
        for (int i = 0; i < v.Length; i++) t._data[i] = (float)v[i];
        return t;
    }

    /// <summary>A per-channel parameter must be null or of shape [size].</summary>
    private static void RequireChannelVector(Tensor? p, int size, string what, Tensor x)
    {
        if (p != null && (p.Rank != 1 || p._shape[0] != size))
            throw new ArgumentException($"{what} should have shape [{size}] for input {Shapes.Format(x._shape)}, got {Shapes.Format(p._shape)}.");
    }
}
