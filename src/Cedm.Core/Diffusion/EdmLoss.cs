using Cedm.Tensors;

namespace Cedm.Diffusion;

/// <summary>EDM loss settings (spec §1.3): ln σ ~ N(P_mean, P_std²), σ_d.</summary>
public sealed record EdmLossOptions
{
    /// <summary>Mean of ln σ (EDM: −1.2).</summary>
    public double PMean { get; init; } = -1.2;

    /// <summary>Standard deviation of ln σ (EDM: 1.2).</summary>
    public double PStd { get; init; } = 1.2;

    /// <summary>σ_d in the weighting λ(σ) (EDM: 0.5, same as the preconditioner's).</summary>
    public double SigmaData { get; init; } = EdmPrecond.DefaultSigmaData;
}

/// <summary>
/// EDM's training loss (spec §1.3): per image draw σ (log-normal) and n ~ N(0, σ²I), denoise y + n, and weight the
/// squared error by λ(σ) = (σ² + σ_d²)/(σ·σ_d)². Reduction: <b>sum over C·H·W, mean over the batch</b> (the
/// reference's <c>loss.sum() / batch</c>, which sets the gradient scale Adam's ε sees).
/// </summary>
public sealed class EdmLoss
{
    public EdmLossOptions Options { get; }

    public EdmLoss(EdmLossOptions? options = null)
    {
        Options = options ?? new EdmLossOptions();
        if (!(Options.PStd >= 0) || !(Options.SigmaData > 0))
            throw new ArgumentException($"EdmLoss needs P_std ≥ 0 and σ_d > 0 (got {Options.PStd}, {Options.SigmaData}).");
    }

    /// <summary>λ(σ) = (σ² + σ_d²) / (σ·σ_d)² (equals 1/c_out², spec §1.3).</summary>
    public static double Weight(double sigma, double sigmaData = EdmPrecond.DefaultSigmaData) =>
        (sigma * sigma + sigmaData * sigmaData) / (sigma * sigmaData * (sigma * sigmaData));

    /// <summary>
    /// The scalar loss for a batch of images [N, C, H, W] in [−1, 1]. Draws, from <paramref name="rng"/> in this order,
    /// ln σ for every image, then the unit noise [N, C, H, W]; the same <paramref name="rng"/> then drives dropout.
    /// </summary>
    public Tensor Compute(IDenoiser denoiser, Tensor images, Conditioning? condition, Rng rng, Tensor? augmentLabels = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(rng);
        if (images.Rank != 4) throw new ArgumentException($"EdmLoss expects images [N, C, H, W], got {Shapes.Format(images.Shape)}.");
        int n = images.Dim(0);
        var sigma = new float[n];
        for (int i = 0; i < n; i++) sigma[i] = (float)Math.Exp(rng.NextNormal() * Options.PStd + Options.PMean);
        var noise = Tensor.Randn(rng, images.ShapeArray());
        return Compute(denoiser, images, condition, new Tensor(sigma, n), noise, augmentLabels, rng);
    }

    /// <summary>
    /// The loss for given σ [N] and <b>unit</b> noise [N, C, H, W] (scaled by σ here: x = y + σ·noise), for tests and
    /// reproducible runs. <paramref name="dropoutRng"/> drives dropout of an <see cref="EdmPrecond"/> in training mode;
    /// augment labels are only accepted by an <see cref="EdmPrecond"/>.
    /// </summary>
    public Tensor Compute(IDenoiser denoiser, Tensor images, Conditioning? condition, Tensor sigma, Tensor noise,
        Tensor? augmentLabels = null, Rng? dropoutRng = null)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(sigma);
        ArgumentNullException.ThrowIfNull(noise);
        if (images.Rank != 4) throw new ArgumentException($"EdmLoss expects images [N, C, H, W], got {Shapes.Format(images.Shape)}.");
        int n = images.Dim(0);
        if (sigma.Rank != 1 || sigma.Dim(0) != n)
            throw new ArgumentException($"EdmLoss expects σ of shape [{n}], got {Shapes.Format(sigma.Shape)}.");
        if (!Shapes.Equal(noise.Shape, images.Shape))
            throw new ArgumentException($"EdmLoss: noise {Shapes.Format(noise.Shape)} must match images {Shapes.Format(images.Shape)}.");
        var sigma4 = sigma.Reshape(n, 1, 1, 1);
        var x = images + noise * sigma4;
        Tensor d = denoiser switch
        {
            EdmPrecond p => p.Denoise(x, sigma, condition?.Labels, condition?.Coherence, condition?.Features, condition?.Image, augmentLabels, dropoutRng),
            _ when augmentLabels != null => throw new ArgumentException($"Augment labels need an {nameof(EdmPrecond)} denoiser, got {denoiser.GetType().Name}."),
            _ => denoiser.Denoise(x, sigma, condition),
        };
        var weight = new float[n];
        for (int i = 0; i < n; i++) weight[i] = (float)Weight(sigma.Data[i], Options.SigmaData);
        var perPixel = (d - images).Square() * new Tensor(weight, n, 1, 1, 1);
        return perPixel.Sum() * (1f / n);
    }
}
