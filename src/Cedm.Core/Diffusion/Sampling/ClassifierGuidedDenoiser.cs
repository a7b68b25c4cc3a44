using Cedm.Diffusion.FeatureConditioning;
using Cedm.Tensors;

namespace Cedm.Diffusion.Sampling;

/// <summary>
/// Classifier guidance with an auxiliary noisy-image classifier (related-seeds B.3 item 4, docs/feature-conditioning.md):
/// the score ∇ log p(x) = (D − x)/σ² gains −ω∇_x L(c(x, σ), y), so D̃ = D − ω·σ²·∇_x L, with L the classifier's
/// objective (NGMG or CE) for each image's target component y: the argmax of its one-hot label row, or, for a
/// feature-conditioned image, the component of highest posterior at its condition vector z (with a mixture), or
/// <see cref="Fallback"/>. Works inside the sampler's no-grad scope by re-enabling gradients for the classifier pass only.
/// </summary>
public sealed class ClassifierGuidedDenoiser(IDenoiser inner, NoisyClassifier classifier, AuxiliaryObjective objective, double weight, MixtureObjective? mixture = null) : IDenoiser
{
    public int LabelDim => inner.LabelDim;
    public bool HasCoherence => inner.HasCoherence;
    public int FeatureDim => inner.FeatureDim;
    public int ConditionChannels => inner.ConditionChannels;

    /// <summary>The target of images without a label row or condition vector.</summary>
    public int Fallback { get; init; }

    /// <summary>The target component of every row of <paramref name="condition"/>.</summary>
    public int[] Targets(Conditioning? condition, int n)
    {
        var t = Enumerable.Repeat(Fallback, n).ToArray();
        if (condition?.Labels is Tensor l)
        {
            int k = l.Dim(1);
            for (int i = 0; i < n; i++)
            {
                var row = l.Data.AsSpan(i * k, k);
                if (row.IndexOfAnyExcept(0f) >= 0) t[i] = row.IndexOf(row.ToArray().Max());
            }
        }
        else if (condition?.Features is Tensor f && mixture != null)
        {
            int d = f.Dim(1);
            var e = new double[d];
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < d; j++) e[j] = f.Data[i * d + j];
                t[i] = mixture.MostLikely(e).Component;
            }
        }
        return t;
    }

    public Tensor Denoise(Tensor x, Tensor sigma, Conditioning? condition = null)
    {
        var d = inner.Denoise(x, sigma, condition);
        var g = Gradient(x, sigma, Targets(condition, x.Dim(0)));
        int n = x.Dim(0), size = x.Size / n;
        var result = new float[x.Size];
        for (int i = 0; i < n; i++)
        {
            double s = sigma.Data[sigma.Size == 1 ? 0 : i];
            float scale = (float)(weight * s * s);
            for (int j = 0; j < size; j++) result[i * size + j] = d.Data[i * size + j] - scale * g[i * size + j];
        }
        return new Tensor(result, x.ShapeArray());
    }

    /// <summary>∇_x of the summed objective Σ_i L(c(x_i, σ_i), y_i) (the mean loss times N).</summary>
    public float[] Gradient(Tensor x, Tensor sigma, int[] targets) => AuxiliaryEvaluation.InputGradient(classifier, objective, x, sigma, targets).Gradient;
}
