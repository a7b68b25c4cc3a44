namespace Cedm.Nn.Optim;

/// <summary>
/// Adam hyper-parameters with the paper's (and PyTorch's) defaults, which are also EDM's (spec §1.4:
/// lr 1e-3, β 0.9/0.999, ε 1e-8, no weight decay). For Adam, weight decay is coupled L2 (added to the gradient);
/// for <see cref="AdamW"/> it is decoupled.
/// </summary>
public sealed record AdamOptions(double Lr = 1e-3, double Beta1 = 0.9, double Beta2 = 0.999, double Eps = 1e-8, double WeightDecay = 0);
