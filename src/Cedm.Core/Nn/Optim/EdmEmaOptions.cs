namespace Cedm.Nn.Optim;

/// <summary>EDM's EMA settings (spec §1.4): half-life 500 kimg, ramp-up ratio 0.05 (null disables the ramp).</summary>
public sealed record EdmEmaOptions(double HalflifeKimg = 500, double? RampupRatio = 0.05);
