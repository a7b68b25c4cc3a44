namespace Cedm.Nn.Optim;

/// <summary>
/// EDM's exponential moving average of parameters, with the half-life measured in images (spec §1.4):
/// h = halflife_kimg·1000, ramped as h = min(h, cur_nimg·ratio), β = 0.5^(batch / max(h, 1e-8)),
/// θ_ema ← β·θ_ema + (1 − β)·θ. At cur_nimg = 0, β = 0 and the EMA becomes an exact copy of the net.
/// The EMA net is a separate module of the same architecture (frozen: its parameters stop requiring gradients);
/// only parameters are averaged, as in EDM's training loop.
/// </summary>
public sealed class EdmEma
{
    private readonly (Cedm.Tensors.Tensor Source, Cedm.Tensors.Tensor Average)[] _pairs;

    public EdmEmaOptions Options { get; }

    public Module Net { get; }

    public Module EmaNet { get; }

    public EdmEma(Module net, Module emaNet, EdmEmaOptions? options = null)
    {
        Options = options ?? new EdmEmaOptions();
        if (!(Options.HalflifeKimg >= 0)) throw new ArgumentOutOfRangeException(nameof(options), "Half-life must be ≥ 0 kimg.");
        if (Options.RampupRatio is double r && !(r >= 0)) throw new ArgumentOutOfRangeException(nameof(options), "Ramp-up ratio must be ≥ 0.");
        _pairs = ParameterAverage.Pair(net, emaNet);
        Net = net;
        EmaNet = emaNet;
        emaNet.SetRequiresGrad(false);
    }

    /// <summary>β for a step that starts at <paramref name="curNimg"/> images with <paramref name="batchSize"/> images.</summary>
    public static double Beta(long curNimg, int batchSize, EdmEmaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (curNimg < 0) throw new ArgumentOutOfRangeException(nameof(curNimg), curNimg, "Image count must be ≥ 0.");
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        double h = options.HalflifeKimg * 1000.0;
        if (options.RampupRatio is double ratio) h = Math.Min(h, curNimg * ratio);
        return Math.Pow(0.5, batchSize / Math.Max(h, 1e-8));
    }

    /// <summary>Averages after an optimiser step; <paramref name="curNimg"/> is the count before that step. Returns β.</summary>
    public double Update(long curNimg, int batchSize)
    {
        double beta = Beta(curNimg, batchSize, Options);
        ParameterAverage.Update(_pairs, beta);
        return beta;
    }
}
