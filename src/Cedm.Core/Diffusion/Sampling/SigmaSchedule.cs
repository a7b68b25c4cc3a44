namespace Cedm.Diffusion.Sampling;

/// <summary>EDM's sampling time steps (spec §1.5), in float64 as the reference sampler keeps them.</summary>
public static class SigmaSchedule
{
    /// <summary>
    /// t_i = (σ_max^(1/ρ) + i/(N−1)·(σ_min^(1/ρ) − σ_max^(1/ρ)))^ρ for i = 0…N−1, then t_N = 0: N + 1 values,
    /// decreasing from σ_max to σ_min and ending at 0. With one step the single level is σ_max.
    /// </summary>
    public static double[] Edm(int steps, double sigmaMin = 0.002, double sigmaMax = 80, double rho = 7)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        if (!(sigmaMin > 0) || !(sigmaMax >= sigmaMin) || double.IsInfinity(sigmaMax))
            throw new ArgumentOutOfRangeException(nameof(sigmaMin), $"Need 0 < sigma_min ≤ sigma_max < ∞, got {sigmaMin} and {sigmaMax}.");
        if (!(rho > 0)) throw new ArgumentOutOfRangeException(nameof(rho), rho, "rho must be > 0.");
        var t = new double[steps + 1];
        double a = Math.Pow(sigmaMax, 1 / rho), b = Math.Pow(sigmaMin, 1 / rho);
        for (int i = 0; i < steps; i++)
        {
            double frac = steps == 1 ? 0 : (double)i / (steps - 1);
            t[i] = Math.Pow(a + frac * (b - a), rho);
        }
        t[steps] = 0;
        return t;
    }
}
