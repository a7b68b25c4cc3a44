using Cedm.Tensors;

namespace Cedm.Nn;

/// <summary>The distributions a layer's weight (and bias) can be drawn from; see <see cref="Init"/>.</summary>
public enum InitMode
{
    XavierUniform,
    XavierNormal,
    KaimingUniform,
    KaimingNormal,
    /// <summary>PyTorch's nn.Linear/nn.Conv2d default, U(±1/√fan_in).</summary>
    TorchDefault,
    /// <summary>N(0, Std²) cut at ±2 absolute (DINO/TEMI heads).</summary>
    TruncatedNormal,
    Zeros,
}

/// <summary>
/// How a layer initialises itself, mirroring EDM's layer arguments (spec §2.1): the weight is drawn from
/// <see cref="Mode"/> with the weight's fans and multiplied by <see cref="WeightScale"/> (init_weight); the bias is
/// drawn the same way (same fans) times <see cref="BiasScale"/> (init_bias), and is exactly zero when that is 0.
/// </summary>
public sealed record WeightInit(InitMode Mode, float WeightScale = 1f, float BiasScale = 0f, float Std = 0.02f)
{
    /// <summary>SongUNet's <c>init</c>: xavier_uniform ×1, biases 0.</summary>
    public static WeightInit Song { get; } = new(InitMode.XavierUniform);

    /// <summary>SongUNet's <c>init_zero</c>: xavier_uniform ×1e-5 (tiny, not exactly zero), biases 0.</summary>
    public static WeightInit SongZero { get; } = new(InitMode.XavierUniform, 1e-5f);

    /// <summary>SongUNet's <c>init_attn</c>: xavier_uniform ×√0.2, biases 0.</summary>
    public static WeightInit SongAttn { get; } = new(InitMode.XavierUniform, MathF.Sqrt(0.2f));

    /// <summary>EDM's Linear/Conv2d defaults when no init is given: kaiming_normal, biases 0.</summary>
    public static WeightInit EdmDefault { get; } = new(InitMode.KaimingNormal);

    /// <summary>PyTorch's defaults: weight and bias both U(±1/√fan_in).</summary>
    public static WeightInit Torch { get; } = new(InitMode.TorchDefault, 1f, 1f);

    /// <summary>TEMI/DINO head MLP (spec §4.3): truncated normal std 0.02 cut at ±2, biases 0.</summary>
    public static WeightInit DinoTruncNormal { get; } = new(InitMode.TruncatedNormal, 1f, 0f, 0.02f);

    /// <summary>Draws <paramref name="weight"/> (rank ≥ 2, [out, in, k…]) then <paramref name="bias"/>, in that order.</summary>
    public void Apply(Tensor weight, Tensor? bias, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(rng);
        var (fanIn, fanOut) = Init.Fans(weight.Shape);
        Draw(weight, rng, fanIn, fanOut, WeightScale);
        if (bias == null) return;
        if (BiasScale == 0f) Init.Zeros(bias);
        else Draw(bias, rng, fanIn, fanOut, BiasScale);
    }

    private void Draw(Tensor t, Rng rng, int fanIn, int fanOut, float scale)
    {
        switch (Mode)
        {
            case InitMode.XavierUniform: Init.XavierUniform(t, rng, fanIn, fanOut, scale); break;
            case InitMode.XavierNormal: Init.XavierNormal(t, rng, fanIn, fanOut, scale); break;
            case InitMode.KaimingUniform: Init.KaimingUniform(t, rng, fanIn, scale); break;
            case InitMode.KaimingNormal: Init.KaimingNormal(t, rng, fanIn, scale); break;
            case InitMode.TorchDefault: Init.TorchDefault(t, rng, fanIn, scale); break;
            case InitMode.TruncatedNormal:
                Init.TruncatedNormal(t, rng, Std);
                if (scale != 1f) { var d = t.Data; for (int i = 0; i < d.Length; i++) d[i] *= scale; }
                break;
            case InitMode.Zeros: Init.Zeros(t); break;
            default: throw new InvalidOperationException($"Unknown init mode {Mode}.");
        }
    }
}
