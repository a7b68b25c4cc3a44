using Cedm.Tensors;

namespace Cedm.Diffusion.Sampling;

/// <summary>One denoiser evaluation D(x; σ) of a batch in the sampler's float64 state, returned in float32.</summary>
internal delegate float[] DenoiseAt(double[] x, double sigma);

/// <summary>The step loop of one ODE solver of <see cref="EdmSampler"/>.</summary>
internal interface ISolverSteps
{
    /// <summary>
    /// Carries a batch from x_0 at t_0 to x_N at t_N = 0, in place on <paramref name="x"/> (rows of equal size).
    /// Every network call goes through <paramref name="denoise"/>, so guidance wrappers apply; <paramref name="rngs"/>
    /// are the rows' per-seed generators, positioned after the latent and the condition.
    /// </summary>
    void Run(double[] x, Rng[] rngs, IReadOnlyList<double> t, DenoiseAt denoise);
}
