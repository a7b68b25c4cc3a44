using Cedm.Tensors;

namespace Cedm.Diffusion.Sampling;

/// <summary>
/// Classifier-free guidance (spec §1.5, C-EDM generate.py): D_cfg = (1 + w)·D(x; σ, c) − w·D(x; σ, ∅), with ∅ the
/// all-zero label vector. Both halves run as one batch of 2N (conditional rows first). Rows whose label is already
/// all-zero, and calls without labels, give D itself (the two terms coincide), so only conditioned images are guided.
/// For a coherence-aware model the unconditional half gets c = 0, the pairing its training used for dropped
/// conditions (related-seeds C.1); the conditional half keeps the given c (1 when none is given). A feature-conditioned
/// model's null condition is the zero vector (related-seeds B.3 item 2), so its unconditional half gets zero features.
/// An image-conditioned model's null condition is the all-zero image (related-seeds A′.1: "replace the decode by
/// zeros"), so its unconditional half gets a zero image with the zero label row.
/// </summary>
public sealed class GuidedDenoiser : IDenoiser
{
    public GuidedDenoiser(IDenoiser inner, double weight)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (!(weight >= 0) || double.IsInfinity(weight)) throw new ArgumentOutOfRangeException(nameof(weight), weight, "Guidance weight must be finite and ≥ 0.");
        if (inner.LabelDim == 0 && inner.FeatureDim == 0 && inner.ConditionChannels == 0 && weight > 0) throw new ArgumentException("Classifier-free guidance needs a conditional model (label dimension 0).", nameof(inner));
        Inner = inner;
        Weight = weight;
    }

    public IDenoiser Inner { get; }

    public double Weight { get; }

    public int LabelDim => Inner.LabelDim;

    public bool HasCoherence => Inner.HasCoherence;

    public int FeatureDim => Inner.FeatureDim;

    public int ConditionChannels => Inner.ConditionChannels;

    public Tensor Denoise(Tensor x, Tensor sigma, Conditioning? condition = null)
    {
        if (Weight == 0 || condition == null || (condition.Labels == null && condition.Features == null && condition.Image == null)) return Inner.Denoise(x, sigma, condition);
        var labels = condition.Labels;
        var features = condition.Features;
        var image = condition.Image;
        int n = x.Dim(0);
        Tensor? coherence = null;
        if (Inner.HasCoherence || condition.Coherence != null)
        {
            var hi = condition.Coherence ?? Tensor.Ones(n);
            coherence = Tensor.Concat(0, hi, Tensor.ZerosLike(hi));
        }
        var both = Inner.Denoise(Tensor.Concat(0, x, x), Tensor.Concat(0, sigma, sigma),
            new Conditioning(labels == null ? null : Tensor.Concat(0, labels, Tensor.ZerosLike(labels)), coherence,
                features == null ? null : Tensor.Concat(0, features, Tensor.ZerosLike(features)),
                image == null ? null : Tensor.Concat(0, image, Tensor.ZerosLike(image))));
        var d = both.Data;
        int half = x.Size;
        if (both.Size != 2 * half) throw new InvalidOperationException($"The denoiser returned {both.Size} values for {2 * n} images of {half / Math.Max(n, 1)}.");
        var result = new float[half];
        float a = (float)(1 + Weight), b = (float)Weight;
        for (int i = 0; i < half; i++) result[i] = a * d[i] - b * d[half + i];
        return new Tensor(result, x.ShapeArray());
    }
}
