using Cedm.Nn;
using Cedm.Tensors;

namespace Cedm.Diffusion.Networks;

/// <summary>
/// SongUNet's noise embedding (<c>map_noise</c>, spec §2.3): for nc channels and c_noise [N],
/// f_i = max_positions^(−i/(nc/2 − 1)) for i = 0…nc/2−1 ("endpoint=True": f_0 = 1, f_last = 1/max_positions) and
/// emb = [sin(c·f), cos(c·f)] — sine half first, which is the reference's cos/sin concat after its half swap.
/// No parameters; registered as a module only so the reference's path "map_noise" exists in our tree.
/// </summary>
public sealed class PositionalEmbedding : Module
{
    private readonly double[] _freqs;

    public int Channels { get; }

    public PositionalEmbedding(int channels, double maxPositions = 10000)
    {
        if (channels < 4 || channels % 2 != 0)
            throw new ArgumentException($"PositionalEmbedding needs an even channel count ≥ 4, got {channels}.");
        Channels = channels;
        _freqs = Frequencies(channels, maxPositions);
    }

    /// <summary>f_i = maxPositions^(−i/(nc/2 − 1)), i = 0…nc/2−1 (spec §2.3, §6.6).</summary>
    public static double[] Frequencies(int channels, double maxPositions = 10000)
    {
        int half = channels / 2;
        var f = new double[half];
        for (int i = 0; i < half; i++) f[i] = Math.Pow(1.0 / maxPositions, i / (double)(half - 1));
        return f;
    }

    /// <summary>c_noise [N] → [N, nc]. Computed in double then rounded (the input needs no gradient).</summary>
    public Tensor Forward(Tensor cNoise)
    {
        if (cNoise.Rank != 1)
            throw new ArgumentException($"PositionalEmbedding expects c_noise of shape [N], got {Shapes.Format(cNoise.Shape)}.");
        int n = cNoise.Dim(0), half = _freqs.Length;
        var y = new float[n * Channels];
        for (int b = 0; b < n; b++)
        {
            // The reference forms the product in float32 (outer(x, freqs) on fp32 tensors) before sin/cos.
            float c = cNoise.Data[b];
            for (int i = 0; i < half; i++)
            {
                float arg = c * (float)_freqs[i];
                y[b * Channels + i] = MathF.Sin(arg);
                y[b * Channels + half + i] = MathF.Cos(arg);
            }
        }
        return new Tensor(y, n, Channels);
    }
}
