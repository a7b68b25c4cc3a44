using Cedm.Diffusion;
using Cedm.Tensors;

namespace Cedm.Tests.Diffusion.Oracles;

/// <summary>
/// The ideal denoiser E[x | x + σn] for data from a <see cref="GmmDistribution"/> (spec §1.5 tests): with
/// w_k(y) ∝ π_k N(y; μ_k, Σ_k + σ²I), D(y; σ) = Σ_k w_k(y)·[μ_k + Σ_k(Σ_k + σ²I)⁻¹(y − μ_k)].
/// Images [N, C, H, W] are flattened to C·H·W = D values. Conditional form (K = components): a label row replaces π
/// (a one-hot row conditions on that component); an all-zero row means "no condition" (π), as EDM's ∅ label.
/// Evaluated in float64 internally.
/// </summary>
internal sealed class ExactGmmDenoiser(GmmDistribution mixture, bool conditional = false) : IDenoiser
{
    public GmmDistribution Mixture { get; } = mixture ?? throw new ArgumentNullException(nameof(mixture));

    public int LabelDim => conditional ? Mixture.Components : 0;

    public Tensor Denoise(Tensor x, Tensor sigma, Conditioning? condition = null)
    {
        int n = x.Dim(0), d = Mixture.Dimension, k = Mixture.Components;
        if (x.Size != n * d) throw new ArgumentException($"Images have {x.Size / Math.Max(n, 1)} values each; the mixture is {d}-dimensional.", nameof(x));
        if (sigma.Size != n) throw new ArgumentException($"Need one σ per image ({n}), got {sigma.Size}.", nameof(sigma));
        var labels = condition?.Labels;
        if (labels != null && (!conditional || labels.Size != n * k))
            throw new ArgumentException(conditional ? $"Labels must be [N, {k}]." : "This denoiser is unconditional.", nameof(condition));
        var cache = new Dictionary<float, GmmDistribution.NoisyComponent[]>();
        var output = new float[x.Size];
        var y = new double[d];
        var prior = new double[k];
        var logw = new double[k];
        for (int i = 0; i < n; i++)
        {
            float s = sigma.Data[i];
            if (!cache.TryGetValue(s, out var comps)) cache.Add(s, comps = Mixture.NoisyComponents(s));
            for (int j = 0; j < d; j++) y[j] = x.Data[i * d + j];
            bool useLabel = false;
            if (labels != null)
                for (int c = 0; c < k; c++) { prior[c] = labels.Data[i * k + c]; useLabel |= prior[c] != 0; }
            for (int c = 0; c < k; c++)
            {
                double p = useLabel ? prior[c] : Mixture.Weights[c];
                logw[c] = p > 0 ? Math.Log(p) + comps[c].LogDensity(y) : double.NegativeInfinity;
            }
            var w = GmmDistribution.SoftmaxInPlace(logw);
            for (int j = 0; j < d; j++)
            {
                double acc = 0;
                for (int c = 0; c < k; c++)
                {
                    if (w[c] == 0) continue;
                    var comp = comps[c];
                    double v = comp.Mean[j];
                    for (int l = 0; l < d; l++) v += comp.Gain[j, l] * (y[l] - comp.Mean[l]);
                    acc += w[c] * v;
                }
                output[i * d + j] = (float)acc;
            }
        }
        return new Tensor(output, x.ShapeArray());
    }
}
