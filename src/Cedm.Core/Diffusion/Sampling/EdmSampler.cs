using Cedm.Diffusion.FeatureConditioning;
using Cedm.Diffusion.Labels;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Diffusion.Sampling;

/// <summary>
/// EDM's second-order (Heun) sampler, deterministic or with stochastic churn ("Algorithm 2", spec §1.5), for any
/// <see cref="IDenoiser"/>. The state x is float64; the denoiser is evaluated in float32.
/// <para>Per-seed generators (spec §3): image i owns <c>new Rng(seed_i)</c> and draws, in this order, its latent z
/// [C, H, W], its condition (conditional models), then C·H·W churn normals at every step (drawn even when γ = 0, as
/// the reference does). Batches are only groups of seeds, so an image depends on its seed alone — provided the
/// denoiser treats batch rows independently, which networks in evaluation mode do.</para>
/// </summary>
public sealed class EdmSampler
{
    private readonly IDenoiser _denoiser;

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
    }

    public SamplerOptions Options { get; }

    /// <summary>t_0 … t_N (t_N = 0).</summary>
    public IReadOnlyList<double> TimeSteps { get; }

    /// <summary>Network evaluations per image: 2N − 1 (doubled batch rows under guidance).</summary>
    public int Nfe => 2 * Options.Steps - 1;

    /// <summary>
    /// One image per seed, shaped [channels, height, width]. A conditional denoiser needs <paramref name="conditions"/>
    /// (its K must equal the label dimension); an unconditional one must get none.
    /// <paramref name="progress"/> receives the fraction of images done. A feature-conditioned denoiser needs
    /// <paramref name="features"/> (drawn per image after its label; the image's condition id is then the component).
    /// </summary>
    public SampleResult Sample(IReadOnlyList<long> seeds, int channels, int height, int width,
        ConditionDraw? conditions = null, IProgress<double>? progress = null, FeatureDraw? features = null)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        int k = _denoiser.LabelDim;
        if (k > 0 && conditions == null) throw new ArgumentException($"The model is conditional (K = {k}); say how conditions are drawn.", nameof(conditions));
        if (k == 0 && conditions != null) throw new ArgumentException("The model is unconditional; it takes no conditions.", nameof(conditions));
        if (conditions != null && conditions.Dim != k) throw new ArgumentException($"Condition rows have {conditions.Dim} entries; the model has label dimension {k}.", nameof(conditions));
        int fd = _denoiser.FeatureDim;
        if ((fd > 0) != (features != null) || (features != null && features.Dimension != fd))
            throw new ArgumentException($"The model's feature dimension is {fd}; the feature draw's {features?.Dimension ?? 0}.", nameof(features));

        int n = seeds.Count, size = channels * height * width;
        var images = new float[(long)n * size];
        var ids = new int[n];
        using var _ = GradMode.NoGrad();
        for (int start = 0; start < n; start += Options.BatchSize)
        {
            int b = Math.Min(Options.BatchSize, n - start);
            var rngs = new Rng[b];
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
            // A coherence-aware model gets the same c for every image (no draw, so seeds keep their images).
            var condition = conditions == null && feats == null ? null : new Conditioning(conditions == null ? null : conditions.Encode(ids.AsSpan(start, b)),
                _denoiser.HasCoherence ? Tensor.Full((float)Options.Coherence, b) : null, feats == null ? null : new Tensor(feats, b, fd));
            Run(x, rngs, b, [b, channels, height, width], condition);
            for (long j = 0; j < x.LongLength; j++) images[(long)start * size + j] = (float)x[j];
            progress?.Report((double)(start + b) / n);
        }
        return new SampleResult(images, n, channels, height, width, seeds.ToArray(), ids);
    }

    /// <summary>The N Heun steps on one batch, in place on <paramref name="x"/>.</summary>
    private void Run(double[] x, Rng[] rngs, int b, int[] shape, Conditioning? condition)
    {
        var o = Options;
        int steps = o.Steps, size = x.Length / b;
        var t = TimeSteps;
        var xHat = new double[x.Length];
        var d = new double[x.Length];
        for (int i = 0; i < steps; i++)
        {
            double tCur = t[i], tNext = t[i + 1];
            // Churn: raise the noise level to t̂ = t(1 + γ) by adding fresh noise of variance t̂² − t².
            double gamma = o.SMin <= tCur && tCur <= o.SMax ? Math.Min(o.SChurn / steps, Math.Sqrt(2) - 1) : 0;
            double tHat = tCur + gamma * tCur;
            double noiseScale = Math.Sqrt(Math.Max(tHat * tHat - tCur * tCur, 0)) * o.SNoise;
            for (int r = 0; r < b; r++)
            {
                var rng = rngs[r];
                int off = r * size;
                for (int j = 0; j < size; j++) xHat[off + j] = x[off + j] + noiseScale * rng.NextNormal();
            }

            // Euler step from t̂ to t_{i+1}.
            var den = Evaluate(xHat, tHat, b, shape, condition);
            for (int j = 0; j < x.Length; j++)
            {
                d[j] = (xHat[j] - den[j]) / tHat;
                x[j] = xHat[j] + (tNext - tHat) * d[j];
            }
            // Second-order correction, except on the last step to t_N = 0 (plain Euler there).
            if (i < steps - 1)
            {
                var den2 = Evaluate(x, tNext, b, shape, condition);
                for (int j = 0; j < x.Length; j++)
                {
                    double d2 = (x[j] - den2[j]) / tNext;
                    x[j] = xHat[j] + (tNext - tHat) * 0.5 * (d[j] + d2);
                }
            }
        }
    }

    private float[] Evaluate(double[] x, double sigma, int b, int[] shape, Conditioning? condition)
    {
        var xf = new float[x.Length];
        for (int j = 0; j < x.Length; j++) xf[j] = (float)x[j];
        var result = _denoiser.Denoise(new Tensor(xf, shape), Tensor.Full((float)sigma, b), condition);
        if (result.Size != x.Length) throw new InvalidOperationException($"The denoiser returned {result.Size} values for {x.Length}.");
        return result.Data;
    }
}
