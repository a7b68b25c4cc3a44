using Cedm.Tensors;

namespace Cedm.Diffusion.FeatureConditioning;

/// <summary>
/// How a sample's continuous condition is chosen at generation (related-seeds B.3 item 3). <see cref="Draw"/> is called
/// once per image with that image's own generator, right after its latent (and label), so a seed fixes its condition.
/// </summary>
public abstract class FeatureDraw
{
    /// <summary>Condition dimension d.</summary>
    public abstract int Dimension { get; }

    /// <summary>Writes the condition of the image at <paramref name="position"/> (its index among the seeds) into
    /// <paramref name="dest"/>; returns its mixture component, or −1 when it has none (given features).</summary>
    public abstract int Draw(int position, Rng rng, Span<float> dest);

    /// <summary>A component by π_k (<paramref name="component"/> = −1), uniformly (−2) or fixed, then z ~ N(μ_k, s²Σ_k).
    /// Always one uniform number for the component, then r + d normals, whatever the choice.</summary>
    public static FeatureDraw FromMixture(FeatureMixture mixture, int component, double temperature) =>
        new MixtureDraw(mixture, component, component, 0, temperature);

    /// <summary>(1−t)·z_a + t·z_b from the same normals (<see cref="FeatureMixture.Between"/>).</summary>
    public static FeatureDraw Interpolate(FeatureMixture mixture, int a, int b, double t, double temperature) =>
        new MixtureDraw(mixture, a, b, t, temperature);

    /// <summary>Row i of whitened features [rows, d] for the i-th image (e.g. of held-out real images: look-alikes).</summary>
    public static FeatureDraw Given(float[] rows, int dimension) => new GivenDraw(rows, dimension);

    public const int ByWeight = -1, Uniformly = -2;

    private sealed class MixtureDraw : FeatureDraw
    {
        private readonly FeatureMixture _m;
        private readonly int _a, _b;
        private readonly double _t, _s;

        public MixtureDraw(FeatureMixture m, int a, int b, double t, double s)
        {
            ArgumentNullException.ThrowIfNull(m);
            if (a < Uniformly || a >= m.K || b < Uniformly || b >= m.K) throw new ArgumentOutOfRangeException(nameof(a), $"component must be in [0, {m.K})");
            if (!(s > 0 && s <= 1)) throw new ArgumentOutOfRangeException(nameof(s), s, "temperature must be in (0, 1]");
            if (!(t >= 0 && t <= 1)) throw new ArgumentOutOfRangeException(nameof(t), t, "interpolation t must be in [0, 1]");
            _m = m; _a = a; _b = b; _t = t; _s = s;
        }

        public override int Dimension => _m.Dimension;

        public override int Draw(int position, Rng rng, Span<float> dest)
        {
            double u = rng.NextDouble();
            int a = _a switch { ByWeight => _m.Pick(u), Uniformly => Math.Min((int)(u * _m.K), _m.K - 1), _ => _a };
            int b = _b < 0 ? a : _b;
            _m.Between(a, b, _t, _s, rng, dest);
            return _t < 0.5 ? a : b;
        }
    }

    private sealed class GivenDraw(float[] rows, int dimension) : FeatureDraw
    {
        public override int Dimension => dimension;

        public override int Draw(int position, Rng rng, Span<float> dest)
        {
            if ((long)(position + 1) * dimension > rows.Length) throw new ArgumentOutOfRangeException(nameof(position), position, $"only {rows.Length / dimension} feature rows were given");
            rows.AsSpan(position * dimension, dimension).CopyTo(dest);
            return -1;
        }
    }
}
