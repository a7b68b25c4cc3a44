using Cedm.Tensors;

namespace Cedm.Nn.Optim;

/// <summary>
/// AdamW (Loshchilov and Hutter) with PyTorch's semantics: decoupled decay p ← p·(1 − lr·wd) applied before the
/// Adam update, which then uses the raw gradient. TEMI trains its heads with it (spec §4.5: β 0.9/0.999, ε 1e-8,
/// wd 1e-4 on the ≥2-D group via <see cref="ParamGroups.DecayAndNoDecay"/>). The decay always comes from the options
/// or the groups (default 0, as for Adam); PyTorch's AdamW default of 1e-2 is not implied — pass it explicitly.
/// </summary>
public sealed class AdamW : Adam
{
    public AdamW(IEnumerable<Tensor> parameters, AdamOptions? options = null)
        : this([new ParamGroup(parameters)], options) { }

    public AdamW(IEnumerable<ParamGroup> groups, AdamOptions? options = null)
        : base(groups, options ?? new AdamOptions(), decoupled: true) { }
}
