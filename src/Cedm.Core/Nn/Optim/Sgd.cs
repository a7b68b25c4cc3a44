using Cedm.Tensors;

namespace Cedm.Nn.Optim;

/// <summary>
/// Stochastic gradient descent with PyTorch's semantics: d = g + wd·p (coupled L2); with momentum μ the buffer is
/// b ← d on the first step and b ← μ·b + (1 − dampening)·d afterwards; the step direction is b, or d + μ·b with
/// Nesterov; p ← p − lr·direction.
/// </summary>
public sealed class Sgd : Optimizer
{
    private const string MomentumBuffer = "momentum_buffer";
    private static readonly string[] WithMomentum = [MomentumBuffer];

    public SgdOptions Options { get; }

    public Sgd(IEnumerable<Tensor> parameters, SgdOptions? options = null)
        : this([new ParamGroup(parameters)], options) { }

    public Sgd(IEnumerable<ParamGroup> groups, SgdOptions? options = null)
        : base(groups, (options ??= new SgdOptions()).Lr, options.WeightDecay)
    {
        Options = options;
        if (options.Momentum < 0) throw new ArgumentOutOfRangeException(nameof(options), $"Momentum {options.Momentum} < 0.");
        if (options.Nesterov && (options.Momentum <= 0 || options.Dampening != 0))
            throw new ArgumentException("Nesterov momentum requires momentum > 0 and dampening 0.");
    }

    protected override IReadOnlyList<string> BufferNames => Options.Momentum != 0 ? WithMomentum : [];

    protected override void Update(Span<float> p, ReadOnlySpan<float> grad, ParamState state, UpdateContext ctx, int offset)
    {
        float lr = (float)ctx.Lr, wd = (float)ctx.WeightDecay;
        float mu = (float)Options.Momentum, keep = (float)(1 - Options.Dampening);
        bool first = ctx.Step == 1;
        var buf = mu != 0 ? Slice(state, MomentumBuffer, offset, p.Length) : default;
        for (int i = 0; i < p.Length; i++)
        {
            float d = wd != 0 ? grad[i] + wd * p[i] : grad[i];
            if (mu != 0)
            {
                buf[i] = first ? d : buf[i] * mu + keep * d;
                d = Options.Nesterov ? d + mu * buf[i] : buf[i];
            }
            p[i] -= lr * d;
        }
    }
}
