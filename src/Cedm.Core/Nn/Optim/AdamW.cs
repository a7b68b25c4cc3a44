using Cedm.Tensors;

namespace Cedm.Nn.Optim;

/// <summary>
/// AdamW (Loshchilov and Hutter) with PyTorch's semantics: decoupled decay p ← p·(1 − lr·wd) applied before the
/// Adam update, which then uses the raw gradient. TEMI trains its heads with it (spec §4.5: β 0.9/0.999, ε 1e-8,
/// wd 1e-4 on the ≥2-D group via <see cref="ParamGroups.DecayAndNoDecay"/>). PyTorch's AdamW default wd is 1e-2.
/// </summary>
public sealed class AdamW : Adam
{
    public AdamW(IEnumerable<Tensor> parameters, AdamOptions? options = null)
        : this([new ParamGroup(parameters)], options) { }

    public AdamW(IEnumerable<ParamGroup> groups, AdamOptions? options = null)
        : base(groups, options ?? new AdamOptions(WeightDecay: 1e-2), decoupled: true) { }
}
