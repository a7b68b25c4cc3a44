using Cedm.Diffusion.FeatureConditioning;
using Cedm.Diffusion.ImageConditioning;
using Cedm.Diffusion.Labels;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Diffusion.Sampling;

/// <summary>
/// EDM's sampler for any <see cref="IDenoiser"/>: latents at σ_max, EDM's time steps, and the ODE solver of
/// <see cref="SamplerOptions.Solver"/> — EDM's second-order Heun method, deterministic or with stochastic churn
/// ("Algorithm 2", spec §1.5; <see cref="HeunSolver"/>), or DPM-Solver++(2M) (<see cref="DpmSolver2M"/>). The state x
/// is float64; the denoiser (wrapped for guidance when asked) is evaluated in float32.
/// <para>Per-seed generators (spec §3): image i owns <c>new Rng(seed_i)</c> and draws, in this order, its latent z
/// [C, H, W], its condition (conditional models), then, under Heun, C·H·W churn normals at every step (drawn even
/// when γ = 0, as the reference does; DPM-Solver++(2M) draws none). So a seed starts from the same x_0 under either
/// solver. Batches are only groups of seeds, so an image depends on its seed alone — provided the denoiser treats
/// batch rows independently, which networks in evaluation mode do. An image-conditioned model's condition (leaf and
/// image, related-seeds A′.1) is drawn after the latents, one per image from its own generator
/// (<see cref="IImageConditionSampler"/>), so it too depends on the seed alone.</para>
/// </summary>
public sealed class EdmSampler
{
    private readonly IDenoiser _denoiser;
    private readonly ISolverSteps _solver;

    public EdmSampler(IDenoiser denoiser, SamplerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        Options = options ?? new SamplerOptions();
        Options.Validate();
        if (Options.CoherenceGuidance > 0 && !denoiser.HasCoherence)
            throw new ArgumentException("Coherence-aware guidance needs a model trained with coherence scores.", nameof(options));
        _denoiser = Options.Guidance > 0 ? new GuidedDenoiser(denoiser, Options.Guidance)
            : Options.CoherenceGuidance > 0 ? new CoherenceGuidedDenoiser(denoiser, Options.CoherenceGuidance, Options.CoherenceLow)
            : denoiser;
        TimeSteps = SigmaSchedule.Edm(Options.Steps, Options.SigmaMin, Options.SigmaMax, Options.Rho);
        _solver = Options.Solver == SamplerSolver.DpmSolver2M ? new DpmSolver2M() : new HeunSolver(Options);
    }

    public SamplerOptions Options { get; }

    /// <summary>t_0 … t_N (t_N = 0).</summary>
    public IReadOnlyList<double> TimeSteps { get; }

    /// <summary>
    /// Network evaluations per image for N = <see cref="SamplerOptions.Steps"/>: 2N − 1 under Heun, N under
    /// DPM-Solver++(2M) (<see cref="SamplerSolvers.Evaluations"/>); doubled batch rows under guidance.
    /// </summary>
    public int Nfe => SamplerSolvers.Evaluations(Options.Solver, Options.Steps);

    /// <summary>
    /// One image per seed, shaped [channels, height, width]. A conditional denoiser needs <paramref name="conditions"/>
    /// (its K must equal the label dimension); an unconditional one must get none.
    /// <paramref name="progress"/> receives the fraction of images done. A feature-conditioned denoiser needs
    /// <paramref name="features"/> (drawn per image after its label; the image's condition id is then the component).
    /// An image-conditioned denoiser needs <paramref name="images"/> instead of <paramref name="conditions"/>: the
    /// image's condition id is then its leaf, which is also its one-hot label when the model is leaf-conditioned.
    /// </summary>
    public SampleResult Sample(IReadOnlyList<long> seeds, int channels, int height, int width,
        ConditionDraw? conditions = null, IProgress<double>? progress = null, FeatureDraw? features = null, ImageConditionDraw? images = null)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        int k = _denoiser.LabelDim;
        CheckImages(images, k, conditions);
        if (k > 0 && conditions == null && images == null) throw new ArgumentException($"The model is conditional (K = {k}); say how conditions are drawn.", nameof(conditions));
        if (k == 0 && conditions != null) throw new ArgumentException("The model is unconditional; it takes no conditions.", nameof(conditions));
        if (conditions != null && conditions.Dim != k) throw new ArgumentException($"Condition rows have {conditions.Dim} entries; the model has label dimension {k}.", nameof(conditions));
        int fd = _denoiser.FeatureDim;
        if ((fd > 0) != (features != null) || (features != null && features.Dimension != fd))
            throw new ArgumentException($"The model's feature dimension is {fd}; the feature draw's {features?.Dimension ?? 0}.", nameof(features));

        int n = seeds.Count, size = channels * height * width;
        var output = new float[(long)n * size];
        var ids = new int[n];
        using var _ = GradMode.NoGrad();
        for (int start = 0; start < n; start += Options.BatchSize)
        {
            int b = Math.Min(Options.BatchSize, n - start);
            var rngs = new Rng[b];   // image i's generator: its latent, condition, then churn
            var x = new double[(long)b * size];
            var feats = features != null ? new float[b * fd] : null;
            for (int i = 0; i < b; i++)
            {
                rngs[i] = new Rng(seeds[start + i]);
                var xi = x.AsSpan(i * size, size);
                for (int j = 0; j < size; j++) xi[j] = rngs[i].NextNormal() * TimeSteps[0];   // x_0 = t_0·z
                ids[start + i] = conditions?.Draw(rngs[i]) ?? -1;
                if (features != null) ids[start + i] = features.Draw(start + i, rngs[i], feats.AsSpan(i * fd, fd));
            }
            Tensor? image = null, labels = conditions?.Encode(ids.AsSpan(start, b));
            if (images != null)
            {
                var drawn = images.Draw(rngs, height, width);
                drawn.LeafIds.CopyTo(ids, start);
                image = drawn.Images;
                // A′.1 feeds the leaf as one float scalar; here it is the one-hot label row of map_label, like every other
                // condition id of this sampler (the net's label dimension is the leaf count).
                if (k > 0) labels = Nn.OneHot.FromIds(drawn.LeafIds, k);
            }
            // A coherence-aware model gets the same c for every image (no draw, so seeds keep their images).
            var condition = labels == null && feats == null && image == null ? null : new Conditioning(labels,
                _denoiser.HasCoherence ? Tensor.Full((float)Options.Coherence, b) : null, feats == null ? null : new Tensor(feats, b, fd), image);
            Run(x, rngs, b, [b, channels, height, width], condition);
            for (long j = 0; j < x.LongLength; j++) output[(long)start * size + j] = (float)x[j];
            progress?.Report((double)(start + b) / n);
        }
        return new SampleResult(output, n, channels, height, width, seeds.ToArray(), ids);
    }

    private void CheckImages(ImageConditionDraw? images, int k, ConditionDraw? conditions)
    {
        int cc = _denoiser.ConditionChannels;
        if (cc > 0 && images == null) throw new ArgumentException($"The model is conditioned on an image of {cc} channel(s); give an image condition sampler.", nameof(images));
        if (cc == 0 && images != null) throw new ArgumentException("The model has no condition channels; it takes no condition images.", nameof(images));
        if (images == null) return;
        if (images.Channels != cc) throw new ArgumentException($"The model has {cc} condition channel(s); the image condition sampler gives {images.Channels}.", nameof(images));
        if (conditions != null) throw new ArgumentException("An image-conditioned model takes its leaves from the image condition sampler; give no condition draw.", nameof(conditions));
        if (k != 0 && k != images.LeafCount)
            throw new ArgumentException($"The model has label dimension {k}; the image condition sampler has {images.LeafCount} leaves.", nameof(images));
    }

    /// <summary>The solver's N steps on one batch, in place on <paramref name="x"/>.</summary>
    private void Run(double[] x, Rng[] rngs, int b, int[] shape, Conditioning? condition) =>
        _solver.Run(x, rngs, TimeSteps, (state, sigma) => Evaluate(state, sigma, b, shape, condition));

    private float[] Evaluate(double[] x, double sigma, int b, int[] shape, Conditioning? condition)
    {
        var xf = new float[x.Length];
        for (int j = 0; j < x.Length; j++) xf[j] = (float)x[j];
        var result = _denoiser.Denoise(new Tensor(xf, shape), Tensor.Full((float)sigma, b), condition);
        if (result.Size != x.Length) throw new InvalidOperationException($"The denoiser returned {result.Size} values for {x.Length}.");
        return result.Data;
    }
}
