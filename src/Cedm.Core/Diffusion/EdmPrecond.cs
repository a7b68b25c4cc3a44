using Cedm.Diffusion.Networks;
using Cedm.Nn;
using Cedm.Tensors;

namespace Cedm.Diffusion;

/// <summary>
/// EDM preconditioning around a <see cref="SongUNet"/> F (spec §1.2):
/// D(x; σ, c) = c_skip(σ)·x + c_out(σ)·F(c_in(σ)·x; c_noise(σ), c), σ_d = 0.5, no clamping of σ.
/// The coefficients are public static functions (tested against the spec's §6.6 values). The wrapped network is
/// registered as "model", so parameter paths read "model.enc.32x32_conv.weight" as in EDM's EDMPrecond pickles.
/// An image-conditioned net (related-seeds A′.1) reads F(concat(c_in(σ)·x, x̂); ...): the condition image x̂ is
/// appended along channels unscaled, everything else is unchanged.
/// </summary>
public sealed class EdmPrecond : Module, IDenoiser
{
    /// <summary>σ_d, the data standard deviation EDM assumes for images in [−1, 1].</summary>
    public const double DefaultSigmaData = 0.5;

    public SongUNet Model { get; }

    public double SigmaData { get; }

    public int LabelDim => Model.Options.LabelDim;

    public bool HasCoherence => Model.Options.Coherence;

    public int FeatureDim => Model.Options.FeatureDim;

    public int ConditionChannels => Model.Options.ConditionChannels;

    public EdmPrecond(SongUNet model, double sigmaData = DefaultSigmaData)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!(sigmaData > 0) || double.IsInfinity(sigmaData)) throw new ArgumentOutOfRangeException(nameof(sigmaData), sigmaData, "σ_d must be positive and finite.");
        Model = RegisterModule("model", model);
        SigmaData = sigmaData;
    }

    /// <summary>Builds a fresh <see cref="SongUNet"/> from <paramref name="options"/> (weights drawn from <paramref name="rng"/>).</summary>
    public EdmPrecond(SongUNetOptions options, Rng rng, double sigmaData = DefaultSigmaData) : this(new SongUNet(options, rng), sigmaData) { }

    /// <summary>c_skip = σ_d² / (σ² + σ_d²).</summary>
    public static double CSkip(double sigma, double sigmaData = DefaultSigmaData) =>
        sigmaData * sigmaData / (sigma * sigma + sigmaData * sigmaData);

    /// <summary>c_out = σ·σ_d / √(σ² + σ_d²).</summary>
    public static double COut(double sigma, double sigmaData = DefaultSigmaData) =>
        sigma * sigmaData / Math.Sqrt(sigma * sigma + sigmaData * sigmaData);

    /// <summary>c_in = 1 / √(σ² + σ_d²).</summary>
    public static double CIn(double sigma, double sigmaData = DefaultSigmaData) =>
        1.0 / Math.Sqrt(sigma * sigma + sigmaData * sigmaData);

    /// <summary>c_noise = ln(σ) / 4.</summary>
    public static double CNoise(double sigma) => Math.Log(sigma) / 4.0;

    /// <summary>IDenoiser: labels, coherence, features and image from <paramref name="condition"/>, no augment labels; dropout only if training.</summary>
    public Tensor Denoise(Tensor x, Tensor sigma, Conditioning? condition = null) =>
        Denoise(x, sigma, condition?.Labels, condition?.Coherence, condition?.Features, condition?.Image, null, null);

    /// <summary>
    /// D(x; σ, labels, augment labels). <paramref name="sigma"/> is [N] (or [1], shared by the batch); it takes no
    /// gradient. Labels are one-hot [N, K] (unscaled) or null (= all-zero row for a conditional net, spec §1.2).
    /// <paramref name="dropoutRng"/> is needed in training mode when the net has dropout.
    /// </summary>
    public Tensor Denoise(Tensor x, Tensor sigma, Tensor? labels, Tensor? augmentLabels, Rng? dropoutRng) =>
        Denoise(x, sigma, labels, null, augmentLabels, dropoutRng);

    /// <summary>As the overload without coherence, plus per-image coherence scores [N] (null: c = 1 for a coherence net).</summary>
    public Tensor Denoise(Tensor x, Tensor sigma, Tensor? labels, Tensor? coherence, Tensor? augmentLabels, Rng? dropoutRng) =>
        Denoise(x, sigma, labels, coherence, null, augmentLabels, dropoutRng);

    /// <summary>As the overload without features, plus a continuous condition [N, d] (null: the zero vector for a feature net).</summary>
    public Tensor Denoise(Tensor x, Tensor sigma, Tensor? labels, Tensor? coherence, Tensor? features, Tensor? augmentLabels, Rng? dropoutRng) =>
        Denoise(x, sigma, labels, coherence, features, null, augmentLabels, dropoutRng);

    /// <summary>
    /// As the overload without an image, plus the condition image [N, C_c, H, W] of an image-conditioned net
    /// (<see cref="SongUNetOptions.ConditionChannels"/> = C_c, related-seeds A′.1); required there (its null
    /// condition is an explicit all-zero image), refused by a net without condition channels.
    /// </summary>
    public Tensor Denoise(Tensor x, Tensor sigma, Tensor? labels, Tensor? coherence, Tensor? features, Tensor? image, Tensor? augmentLabels, Rng? dropoutRng)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(sigma);
        if (x.Rank != 4) throw new ArgumentException($"EdmPrecond expects x of shape [N, C, H, W], got {Shapes.Format(x.Shape)}.");
        int n = x.Dim(0);
        if (sigma.Size != n && sigma.Size != 1)
            throw new ArgumentException($"EdmPrecond expects σ of shape [{n}] (or one value), got {Shapes.Format(sigma.Shape)}.");
        CheckImage(x, image);
        var cSkip = new float[n];
        var cOut = new float[n];
        var cIn = new float[n];
        var cNoise = new float[n];
        for (int i = 0; i < n; i++)
        {
            double s = sigma.Data[sigma.Size == 1 ? 0 : i];
            cSkip[i] = (float)CSkip(s, SigmaData);
            cOut[i] = (float)COut(s, SigmaData);
            cIn[i] = (float)CIn(s, SigmaData);
            cNoise[i] = (float)CNoise(s);
        }
        // Without a graph nothing but the result outlives the call, so the activations' storage is recycled across
        // calls (a sampler evaluates the net dozens of times with the same shapes).
        return TensorArena.Recycling(() =>
        {
            var input = x * new Tensor(cIn, n, 1, 1, 1);
            // A′.1: the condition is a clean image in [−1, 1] (a TreeVAE decode), never noised, so it already has the
            // data's scale; c_in normalises only the noisy x, whose variance σ² + σ_d² grows with σ.
            if (image != null) input = Tensor.Concat(1, input, image);
            var f = Model.Forward(input, new Tensor(cNoise, n), labels, coherence, features, augmentLabels, dropoutRng);
            return x * new Tensor(cSkip, n, 1, 1, 1) + f * new Tensor(cOut, n, 1, 1, 1);
        });
    }

    /// <summary>The condition image must be present exactly for a net with condition channels, at x's batch and resolution.</summary>
    private void CheckImage(Tensor x, Tensor? image)
    {
        int cc = ConditionChannels;
        if (cc == 0)
        {
            if (image != null)
                throw new ArgumentException($"EdmPrecond: the network was built without condition channels (condition_channels 0) but got a condition image of shape {Shapes.Format(image.Shape)}.");
            return;
        }
        if (image == null)
            throw new ArgumentException($"EdmPrecond: the network is conditioned on an image of {cc} channel(s) (condition_channels {cc}); give Conditioning.Image (all zeros for the null condition).");
        if (image.Rank != 4 || image.Dim(0) != x.Dim(0) || image.Dim(1) != cc || image.Dim(2) != x.Dim(2) || image.Dim(3) != x.Dim(3))
            throw new ArgumentException($"EdmPrecond expects a condition image of shape [{x.Dim(0)}, {cc}, {x.Dim(2)}, {x.Dim(3)}] (x's batch and resolution), got {Shapes.Format(image.Shape)}.");
    }
}
