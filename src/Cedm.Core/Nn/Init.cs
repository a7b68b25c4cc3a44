using Cedm.Tensors;

namespace Cedm.Nn;

/// <summary>
/// Weight initialisers, writing in place and drawing from an explicit <see cref="Rng"/>. The formulas are EDM's
/// <c>weight_init</c> (spec §2.1), which differ from PyTorch's gains: with fan_in = in·k², fan_out = out·k²,
/// xavier_uniform U(±√(6/(fan_in+fan_out))), xavier_normal N(0, 2/(fan_in+fan_out)), kaiming_uniform U(±√(3/fan_in)),
/// kaiming_normal N(0, 1/fan_in); every form is then multiplied by <c>scale</c> (EDM's init_weight / init_bias).
/// </summary>
public static class Init
{
    /// <summary>
    /// Fans of a weight of shape [out, in, k…]: fan_in = in·Πk, fan_out = out·Πk (spec §2.1). Rank ≥ 2;
    /// a bias is initialised with the fans of its layer's weight.
    /// </summary>
    public static (int FanIn, int FanOut) Fans(ReadOnlySpan<int> weightShape)
    {
        if (weightShape.Length < 2)
            throw new ArgumentException($"Fans need a weight of rank ≥ 2 ([out, in, k…]), got shape {Shapes.Format(weightShape)}; pass the fans explicitly for biases.");
        int receptive = 1;
        for (int i = 2; i < weightShape.Length; i++) receptive *= weightShape[i];
        return (weightShape[1] * receptive, weightShape[0] * receptive);
    }

    public static void XavierUniform(Tensor t, Rng rng, float scale = 1f)
    {
        var (fi, fo) = Fans(t.Shape);
        XavierUniform(t, rng, fi, fo, scale);
    }

    public static void XavierUniform(Tensor t, Rng rng, int fanIn, int fanOut, float scale = 1f) =>
        SymmetricUniform(t, rng, Math.Sqrt(6.0 / Positive(fanIn + fanOut)), scale);

    public static void XavierNormal(Tensor t, Rng rng, float scale = 1f)
    {
        var (fi, fo) = Fans(t.Shape);
        XavierNormal(t, rng, fi, fo, scale);
    }

    public static void XavierNormal(Tensor t, Rng rng, int fanIn, int fanOut, float scale = 1f) =>
        Normal(t, rng, 0f, (float)(scale * Math.Sqrt(2.0 / Positive(fanIn + fanOut))));

    public static void KaimingUniform(Tensor t, Rng rng, float scale = 1f) => KaimingUniform(t, rng, Fans(t.Shape).FanIn, scale);

    public static void KaimingUniform(Tensor t, Rng rng, int fanIn, float scale = 1f) =>
        SymmetricUniform(t, rng, Math.Sqrt(3.0 / Positive(fanIn)), scale);

    public static void KaimingNormal(Tensor t, Rng rng, float scale = 1f) => KaimingNormal(t, rng, Fans(t.Shape).FanIn, scale);

    public static void KaimingNormal(Tensor t, Rng rng, int fanIn, float scale = 1f) =>
        Normal(t, rng, 0f, (float)(scale * Math.Sqrt(1.0 / Positive(fanIn))));

    /// <summary>
    /// PyTorch's default for nn.Linear/nn.Conv2d weights and biases: kaiming_uniform with a = √5, which reduces to
    /// U(±1/√fan_in). TEMI's weight-normalised v uses it (spec §4.3).
    /// </summary>
    public static void TorchDefault(Tensor t, Rng rng, int fanIn, float scale = 1f) =>
        SymmetricUniform(t, rng, 1.0 / Math.Sqrt(Positive(fanIn)), scale);

    public static void TorchDefault(Tensor t, Rng rng, float scale = 1f) => TorchDefault(t, rng, Fans(t.Shape).FanIn, scale);

    /// <summary>
    /// N(mean, std²) conditioned on [low, high] (absolute bounds, as PyTorch's trunc_normal_ and DINO's heads:
    /// std 0.02 cut at ±2, spec §4.3), sampled exactly by rejection. Throws when the interval holds under 1% of
    /// the mass, where rejection would be slow.
    /// </summary>
    public static void TruncatedNormal(Tensor t, Rng rng, float std, float mean = 0f, float low = -2f, float high = 2f)
    {
        if (!(std > 0) || !(low < high)) throw new ArgumentException($"TruncatedNormal needs std > 0 and low < high (std {std}, [{low}, {high}]).");
        double mass = Cedm.Tensors.Kernels.SpecialFunctions.NormalCdf((high - mean) / (double)std) - Cedm.Tensors.Kernels.SpecialFunctions.NormalCdf((low - mean) / (double)std);
        if (mass < 0.01)
            throw new ArgumentException($"TruncatedNormal: [{low}, {high}] holds only {mass:G3} of N({mean}, {std}²); rejection sampling would be too slow.");
        var d = t.Data;
        for (int i = 0; i < d.Length; i++)
        {
            float v;
            do v = mean + std * (float)rng.NextNormal();
            while (v < low || v > high);
            d[i] = v;
        }
    }

    public static void Normal(Tensor t, Rng rng, float mean, float std) => rng.FillNormal(t.Data, mean, std);

    public static void Uniform(Tensor t, Rng rng, float low, float high) => rng.FillUniform(t.Data, low, high);

    public static void Zeros(Tensor t) => Array.Clear(t.Data);

    public static void Constant(Tensor t, float value) => t.Data.AsSpan().Fill(value);

    /// <summary>scale·U(−bound, bound), drawn as (2u − 1)·bound like EDM's <c>(torch.rand(*shape)*2-1)</c>.</summary>
    private static void SymmetricUniform(Tensor t, Rng rng, double bound, float scale)
    {
        var d = t.Data;
        for (int i = 0; i < d.Length; i++) d[i] = (float)(scale * bound * (2.0 * rng.NextFloat() - 1.0));
    }

    private static int Positive(int fan) =>
        fan > 0 ? fan : throw new ArgumentException($"Initialiser fan must be positive, got {fan}.");
}
