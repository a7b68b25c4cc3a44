using Cedm.Tensors;

namespace Cedm.Nn.Optim;

/// <summary>
/// Adam (Kingma and Ba) exactly as PyTorch's single-tensor implementation, in float32 per element:
/// g ← g + wd·p (Adam only; AdamW decays instead as p ← p·(1 − lr·wd) before the update);
/// m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
/// p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε), with t the parameter's own step count.
/// </summary>
public class Adam : Optimizer
{
    private const string ExpAvg = "exp_avg", ExpAvgSq = "exp_avg_sq";
    private static readonly string[] Names = [ExpAvg, ExpAvgSq];
    private readonly bool _decoupled;

    public AdamOptions Options { get; }

    public Adam(IEnumerable<Tensor> parameters, AdamOptions? options = null)
        : this([new ParamGroup(parameters)], options) { }

    public Adam(IEnumerable<ParamGroup> groups, AdamOptions? options = null) : this(groups, options ?? new AdamOptions(), decoupled: false) { }

    private protected Adam(IEnumerable<ParamGroup> groups, AdamOptions options, bool decoupled)
        : base(groups, options.Lr, options.WeightDecay)
    {
        Options = options;
        _decoupled = decoupled;
        if (!(options.Beta1 >= 0 && options.Beta1 < 1) || !(options.Beta2 >= 0 && options.Beta2 < 1))
            throw new ArgumentOutOfRangeException(nameof(options), $"Adam betas must be in [0, 1), got ({options.Beta1}, {options.Beta2}).");
        if (!(options.Eps >= 0)) throw new ArgumentOutOfRangeException(nameof(options), $"Adam eps must be ≥ 0, got {options.Eps}.");
    }

    protected override IReadOnlyList<string> BufferNames => Names;

    protected override void Update(Span<float> p, ReadOnlySpan<float> grad, ParamState state, UpdateContext ctx, int offset)
    {
        var m = Slice(state, ExpAvg, offset, p.Length);
        var v = Slice(state, ExpAvgSq, offset, p.Length);
        double b1 = Options.Beta1, b2 = Options.Beta2;
        float fb1 = (float)b1, fb2 = (float)b2, oneMinusB1 = (float)(1 - b1), oneMinusB2 = (float)(1 - b2);
        float stepSize = (float)(ctx.Lr / (1 - Math.Pow(b1, ctx.Step)));
        float bc2Sqrt = (float)Math.Sqrt(1 - Math.Pow(b2, ctx.Step));
        float eps = (float)Options.Eps;
        float l2 = _decoupled ? 0f : (float)ctx.WeightDecay;
        float decay = _decoupled ? (float)(1 - ctx.Lr * ctx.WeightDecay) : 1f;
        for (int i = 0; i < p.Length; i++)
        {
            float pi = p[i] * decay;
            float g = l2 != 0 ? grad[i] + l2 * pi : grad[i];
            float mi = m[i] * fb1 + oneMinusB1 * g;
            float vi = v[i] * fb2 + oneMinusB2 * g * g;
            m[i] = mi;
            v[i] = vi;
            float denom = MathF.Sqrt(vi) / bc2Sqrt + eps;
            p[i] = pi - stepSize * mi / denom;
        }
    }
}
