using Cedm.Tensors;

namespace Cedm.Diffusion.Sampling;

/// <summary>
/// Coherence-aware classifier-free guidance (CA-CFG, related-seeds C.6 and D.1) on the EDM denoiser:
/// D̃ = (1 + w)·D(x; σ, k, c_hi) − w·D(x; σ, k, c_lo), the same condition k in both terms, w = 0 unguided.
/// c_hi is the coherence the caller puts in the <see cref="Conditioning"/> (1 when it gives none), c_lo is fixed
/// here (CAD's default 0: the model's own "label-free" end). Both terms run as one batch of 2N (c_hi rows first).
/// The sampler applies it at every network evaluation of its Heun steps. An image-conditioned model's condition image
/// is part of k (related-seeds A′.1), so both terms get it.
/// </summary>
public sealed class CoherenceGuidedDenoiser : IDenoiser
{
    public CoherenceGuidedDenoiser(IDenoiser inner, double weight, double lowCoherence = 0)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (!(weight >= 0) || double.IsInfinity(weight)) throw new ArgumentOutOfRangeException(nameof(weight), weight, "Coherence guidance weight must be finite and ≥ 0.");
        if (!(lowCoherence >= 0 && lowCoherence <= 1)) throw new ArgumentOutOfRangeException(nameof(lowCoherence), lowCoherence, "The low coherence must be in [0, 1].");
        if (!inner.HasCoherence) throw new ArgumentException("Coherence-aware guidance needs a model trained with coherence scores.", nameof(inner));
        Inner = inner;
        Weight = weight;
        LowCoherence = lowCoherence;
    }

    public IDenoiser Inner { get; }

    /// <summary>ω in (1 + ω)·D(c_hi) − ω·D(c_lo).</summary>
    public double Weight { get; }

    /// <summary>c_lo, the coherence of the negative term.</summary>
    public double LowCoherence { get; }

    public int LabelDim => Inner.LabelDim;

    public bool HasCoherence => true;

    public int ConditionChannels => Inner.ConditionChannels;

    public Tensor Denoise(Tensor x, Tensor sigma, Conditioning? condition = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(sigma);
        if (Weight == 0) return Inner.Denoise(x, sigma, condition);
        int n = x.Dim(0);
        var hi = condition?.Coherence ?? Tensor.Ones(n);
        if (hi.Rank != 1 || hi.Dim(0) != n) throw new ArgumentException($"Coherence must have shape [{n}], got {Shapes.Format(hi.Shape)}.");
        var labels = condition?.Labels;
        var image = condition?.Image;
        var both = Inner.Denoise(Tensor.Concat(0, x, x), Tensor.Concat(0, sigma, sigma),
            new Conditioning(labels == null ? null : Tensor.Concat(0, labels, labels), Tensor.Concat(0, hi, Tensor.Full((float)LowCoherence, n)),
                Image: image == null ? null : Tensor.Concat(0, image, image)));
        int half = x.Size;
        if (both.Size != 2 * half) throw new InvalidOperationException($"The denoiser returned {both.Size} values for {2 * n} images of {half / Math.Max(n, 1)}.");
        var d = both.Data;
        var result = new float[half];
        float a = (float)(1 + Weight), b = (float)Weight;
        for (int i = 0; i < half; i++) result[i] = a * d[i] - b * d[half + i];
        return new Tensor(result, x.ShapeArray());
    }
}
