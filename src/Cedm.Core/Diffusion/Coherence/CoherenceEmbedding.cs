using Cedm.Diffusion.Networks;
using Cedm.Nn;
using Cedm.Tensors;

namespace Cedm.Diffusion.Coherence;

/// <summary>
/// CAD's scalar coherence mapper (related-seeds C.4, "mlp"), registered in <see cref="SongUNet"/> as <c>map_coh</c>:
/// the EDM positional embedding of c·1000 (10 000 max positions, width nc), standardised per vector (subtract the
/// mean, divide by the standard deviation over the nc entries), then Linear(nc→nc) → SiLU → Linear(nc→nc).
/// Its output is added where <c>map_label</c>'s is (D.1: emb = map_noise(c_noise) + map_label(k) + map_coh(c)),
/// before EDM's own nc → E → E mapping MLP.
/// <para>Widths: CAD embeds at D/4 and maps to the block width D; with SongUNet's E = 4·nc that sinusoidal width is
/// nc. The sum then passes through map_layer0/1 (nc → E → E), which plays the role of CAD's D-wide layers, so the
/// hidden width here stays nc.</para>
/// </summary>
public sealed class CoherenceEmbedding : Module
{
    /// <summary>CAD multiplies c ∈ [0, 1] by 1000 before the sinusoidal embedding, as a DDPM timestep.</summary>
    public const float InputScale = 1000f;

    private readonly PositionalEmbedding _sinusoid;
    private readonly Linear _fc0, _fc1;

    public int Channels { get; }

    public CoherenceEmbedding(int channels, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        Channels = channels;
        _sinusoid = new PositionalEmbedding(channels);
        _fc0 = RegisterModule("fc0", new Linear(channels, channels, rng, init: WeightInit.Song));
        _fc1 = RegisterModule("fc1", new Linear(channels, channels, rng, init: WeightInit.Song));
    }

    /// <summary>c [N] in [0, 1] → [N, nc]. The scores take no gradient (they are data, not parameters).</summary>
    public Tensor Forward(Tensor coherence)
    {
        ArgumentNullException.ThrowIfNull(coherence);
        if (coherence.Rank != 1) throw new ArgumentException($"The coherence embedding expects c of shape [N], got {Shapes.Format(coherence.Shape)}.");
        int n = coherence.Dim(0);
        var scaled = new float[n];
        for (int i = 0; i < n; i++) scaled[i] = coherence.Data[i] * InputScale;
        var e = Standardize(_sinusoid.Forward(new Tensor(scaled, n)));
        return _fc1.Forward(_fc0.Forward(e).Silu());
    }

    /// <summary>
    /// (v − mean(v)) / std(v) per row, with the unbiased standard deviation (PyTorch's <c>std()</c> default). A
    /// sin/cos row is never constant (sin 0 = 0 and cos 0 = 1 already differ), so the division is safe.
    /// </summary>
    public static Tensor Standardize(Tensor rows)
    {
        int n = rows.Dim(0), d = rows.Dim(1);
        var y = new float[n * d];
        for (int r = 0; r < n; r++)
        {
            var v = rows.Data.AsSpan(r * d, d);
            double mean = 0;
            foreach (float a in v) mean += a;
            mean /= d;
            double ss = 0;
            foreach (float a in v) ss += (a - mean) * (a - mean);
            double inv = 1.0 / Math.Sqrt(Math.Max(ss / (d - 1), 1e-12));
            for (int j = 0; j < d; j++) y[r * d + j] = (float)((v[j] - mean) * inv);
        }
        return new Tensor(y, n, d);
    }
}
