using Cedm.Tensors;

namespace Cedm.Diffusion.Sampling;

/// <summary>
/// EDM's Heun steps ("Algorithm 2", spec §1.5): per step, churn x up to t̂ = t_i(1 + γ_i), an Euler step to t_{i+1},
/// then the trapezoidal correction with a second evaluation there — except on the last step to t_N = 0, plain Euler.
/// 2N − 1 evaluations. Every row draws C·H·W churn normals from its own generator at every step, even when γ = 0.
/// </summary>
internal sealed class HeunSolver(SamplerOptions options) : ISolverSteps
{
    public void Run(double[] x, Rng[] rngs, IReadOnlyList<double> t, DenoiseAt denoise)
    {
        var o = options;
        int steps = o.Steps, b = rngs.Length, size = x.Length / b;
        var xHat = new double[x.Length];
        var d = new double[x.Length];
        for (int i = 0; i < steps; i++)
        {
            double tCur = t[i], tNext = t[i + 1];
            // Churn: raise the noise level to t̂ = t(1 + γ) by adding fresh noise of variance t̂² − t².
            double gamma = o.SMin <= tCur && tCur <= o.SMax ? Math.Min(o.SChurn / steps, Math.Sqrt(2) - 1) : 0;
            double tHat = tCur + gamma * tCur;
            double noiseScale = Math.Sqrt(Math.Max(tHat * tHat - tCur * tCur, 0)) * o.SNoise;
            for (int r = 0; r < b; r++)
            {
                var rng = rngs[r];
                int off = r * size;
                for (int j = 0; j < size; j++) xHat[off + j] = x[off + j] + noiseScale * rng.NextNormal();
            }

            // Euler step from t̂ to t_{i+1}.
            var den = denoise(xHat, tHat);
            for (int j = 0; j < x.Length; j++)
            {
                d[j] = (xHat[j] - den[j]) / tHat;
                x[j] = xHat[j] + (tNext - tHat) * d[j];
            }
            // Second-order correction, except on the last step to t_N = 0 (plain Euler there).
            if (i < steps - 1)
            {
                var den2 = denoise(x, tNext);
                for (int j = 0; j < x.Length; j++)
                {
                    double d2 = (x[j] - den2[j]) / tNext;
                    x[j] = xHat[j] + (tNext - tHat) * 0.5 * (d[j] + d2);
                }
            }
        }
    }
}
