using Cedm.Tests.Diffusion.Oracles;

namespace Cedm.Tests.Diffusion;

/// <summary>Known mixtures for sampler tests: well separated, anisotropic and correlated, in the [−1, 1] data range.</summary>
internal static class GmmFixtures
{
    public static GmmDistribution ThreeComponents() => new(
        [0.5, 0.3, 0.2],
        [[-0.6, -0.5], [0.6, 0.1], [-0.1, 0.7]],
        [
            new double[,] { { 0.020, 0.008 }, { 0.008, 0.012 } },
            new double[,] { { 0.010, -0.004 }, { -0.004, 0.025 } },
            new double[,] { { 0.015, 0.0 }, { 0.0, 0.006 } },
        ]);
}
