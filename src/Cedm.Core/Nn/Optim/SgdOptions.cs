namespace Cedm.Nn.Optim;

/// <summary>SGD hyper-parameters with PyTorch's defaults (lr has none there; 1e-2 here).</summary>
public sealed record SgdOptions(double Lr = 1e-2, double Momentum = 0, double Dampening = 0, double WeightDecay = 0, bool Nesterov = false);
