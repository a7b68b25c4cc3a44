using Cedm.Tensors;

namespace Cedm.Diffusion.Sampling;

/// <summary>
/// DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion Probabilistic
/// Models", §4: the solver for the data-prediction model and its multistep variant, Algorithm "DPM-Solver++(2M)"),
/// written in EDM's parametrisation: scaling s(t) = 1 (the paper's α_t = 1), σ(t) = t, so the paper's
/// λ_t = log(α_t/σ_t) is λ = −ln σ, and its data prediction x_θ(x_t, t) is EDM's denoiser D(x; σ).
/// One network evaluation per step, at every non-zero level t_0 … t_{N−1}: N evaluations for N steps.
/// <para>Derivation (numbers are this comment's; each was checked against the paper's definitions above):</para>
/// <para>(1) EDM's probability-flow ODE with s = 1 is dx/dσ = (x − D(x; σ))/σ. With λ = −ln σ (dσ = −σ dλ) it is
/// dx/dλ = D − x, whose linear part is solved exactly: d(e^λ x)/dλ = e^λ D, so from λ_i to λ_{i+1}
/// x_{i+1} = (σ_{i+1}/σ_i)·x_i + σ_{i+1}·∫ e^λ D dλ — the paper's exact solution for the data-prediction model
/// (σ_t/σ_s·x_s + σ_t ∫ e^λ x_θ dλ) at α = 1.</para>
/// <para>(2) D held at D_i = D(x_i; σ_i) over the step: with h_i = λ_{i+1} − λ_i = ln(σ_i/σ_{i+1}),
/// σ_{i+1}∫ e^λ dλ = 1 − e^{−h_i}, so x_{i+1} = (σ_{i+1}/σ_i)·x_i − (e^{−h_i} − 1)·D_i: the first-order
/// DPM-Solver++ (= DDIM). Since e^{−h_i} = σ_{i+1}/σ_i this is x_i + (σ_{i+1} − σ_i)·(x_i − D_i)/σ_i, the Euler
/// step of (1) in σ — the first half of a Heun step.</para>
/// <para>(3) D linear in λ through the last two evaluations, D ≈ D_i + (λ − λ_i)(D_i − D_{i−1})/h_{i−1}: the slope
/// term integrates to σ_{i+1}∫ e^λ (λ − λ_i) dλ = h_i − 1 + e^{−h_i} = h_i²/2 + O(h_i³). (2M) replaces it by
/// (1 − e^{−h_i})·h_i/2, equal to second order, which gives, with r_i = h_{i−1}/h_i,
/// D'_i = (1 + 1/(2r_i))·D_i − (1/(2r_i))·D_{i−1} and x_{i+1} = (σ_{i+1}/σ_i)·x_i − (e^{−h_i} − 1)·D'_i.
/// The first step, or any step with no earlier distinct level (h_{i−1} = 0), uses (2).</para>
/// <para>(4) The last step, to σ_N = 0: h = ∞, so r = 0 and 1/(2r) = ∞ — (3) has no limit (D' diverges unless
/// D_{N−1} = D_{N−2}). (2) does: σ_N/σ_{N−1} = 0 and e^{−h} = 0 give x_N = D(x_{N−1}; σ_{N−1}), the data prediction,
/// which is what this solver returns, exactly (no 0·x term). Heun's last step (Euler to 0) is the same map.</para>
/// <para>e^{−h_i} is computed as σ_{i+1}/σ_i (identical to exp(−ln(σ_i/σ_{i+1})) without its rounding).
/// Deterministic: no churn, so it draws nothing after the latent and the condition.</para>
/// </summary>
internal sealed class DpmSolver2M : ISolverSteps
{
    public void Run(double[] x, Rng[] rngs, IReadOnlyList<double> t, DenoiseAt denoise)
    {
        int steps = t.Count - 1;
        var previous = new double[x.Length];   // D_{i−1}, copied: the denoiser may reuse its output's storage
        double hPrevious = 0;                  // h_{i−1}; 0 = no earlier distinct level
        for (int i = 0; i < steps; i++)
        {
            double sigma = t[i], sigmaNext = t[i + 1];
            var den = denoise(x, sigma);
            if (sigmaNext == 0)
            {
                // (4): the limit of (2) at σ_{i+1} = 0 is the data prediction itself.
                for (int j = 0; j < x.Length; j++) x[j] = den[j];
                continue;
            }
            double ratio = sigmaNext / sigma;               // e^{−h_i}
            double h = Math.Log(sigma / sigmaNext);         // h_i
            double weight = 1 - ratio;                      // −(e^{−h_i} − 1)
            double q = hPrevious > 0 ? h / (2 * hPrevious) : 0;   // 1/(2 r_i), or first order (2)
            for (int j = 0; j < x.Length; j++)
            {
                double d = den[j];
                double dPrime = q == 0 ? d : (1 + q) * d - q * previous[j];
                x[j] = ratio * x[j] + weight * dPrime;
                previous[j] = d;
            }
            hPrevious = h;
        }
    }
}
