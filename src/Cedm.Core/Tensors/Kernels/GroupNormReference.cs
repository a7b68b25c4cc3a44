namespace Cedm.Tensors.Kernels;

/// <summary>
/// Plain, unfused group normalisation in double: the oracle for <see cref="GroupNormKernel"/>.
/// The backward deliberately follows a different derivation from the fast kernel: the textbook staged
/// chain rule through μ and var (dvar, then dμ, then dx), followed by a separate SiLU derivative step.
/// </summary>
internal static class GroupNormReference
{
    /// <summary>y for x [N, C, S] (S = 1 when there are no spatial dims); gamma/beta [C] or null (1 and 0).</summary>
    public static float[] Forward(float[] x, int n, int c, int s, int groups, float[]? gamma, float[]? beta, float eps, bool silu)
    {
        var y = new float[x.Length];
        int cg = c / groups, m = cg * s;
        for (int ni = 0; ni < n; ni++)
            for (int g = 0; g < groups; g++)
            {
                int off = (ni * c + g * cg) * s;
                var (mu, v) = Stats(x, off, m);
                double r = 1.0 / Math.Sqrt(v + eps);
                for (int i = 0; i < m; i++)
                {
                    int ch = g * cg + i / s;
                    double h = (x[off + i] - mu) * r * (gamma?[ch] ?? 1.0) + (beta?[ch] ?? 0.0);
                    y[off + i] = (float)(silu ? h / (1.0 + Math.Exp(-h)) : h);
                }
            }
        return y;
    }

    /// <summary>(dx, dγ, dβ) for upstream gradient <paramref name="dy"/>.</summary>
    public static (float[] Dx, float[] DGamma, float[] DBeta) Backward(float[] x, float[] dy, int n, int c, int s, int groups,
        float[]? gamma, float[]? beta, float eps, bool silu)
    {
        var dx = new float[x.Length];
        var dGamma = new double[c];
        var dBeta = new double[c];
        int cg = c / groups, m = cg * s;
        var dh = new double[m];
        var xhat = new double[m];
        for (int ni = 0; ni < n; ni++)
            for (int g = 0; g < groups; g++)
            {
                int off = (ni * c + g * cg) * s;
                var (mu, v) = Stats(x, off, m);
                double r = 1.0 / Math.Sqrt(v + eps);
                // Through the activation, then the affine.
                for (int i = 0; i < m; i++)
                {
                    int ch = g * cg + i / s;
                    xhat[i] = (x[off + i] - mu) * r;
                    double h = xhat[i] * (gamma?[ch] ?? 1.0) + (beta?[ch] ?? 0.0);
                    double sig = 1.0 / (1.0 + Math.Exp(-h));
                    dh[i] = dy[off + i] * (silu ? sig * (1.0 + h * (1.0 - sig)) : 1.0);
                    dBeta[ch] += dh[i];
                    dGamma[ch] += dh[i] * xhat[i];
                    dh[i] *= gamma?[ch] ?? 1.0; // now dL/dx̂
                }
                // x̂ = (x − μ)·(var + eps)^(−1/2): dvar, dμ, then dx.
                double dvar = 0, dmu = 0, sumCentred = 0;
                for (int i = 0; i < m; i++) dvar += dh[i] * (x[off + i] - mu) * -0.5 * r * r * r;
                for (int i = 0; i < m; i++) { dmu -= dh[i] * r; sumCentred += x[off + i] - mu; }
                dmu += dvar * -2.0 * sumCentred / m;
                for (int i = 0; i < m; i++)
                    dx[off + i] = (float)(dh[i] * r + dvar * 2.0 * (x[off + i] - mu) / m + dmu / m);
            }
        return (dx, dGamma.Select(d => (float)d).ToArray(), dBeta.Select(d => (float)d).ToArray());
    }

    private static (double Mean, double Var) Stats(float[] x, int off, int m)
    {
        double mu = 0;
        for (int i = 0; i < m; i++) mu += x[off + i];
        mu /= m;
        double v = 0;
        for (int i = 0; i < m; i++) v += (x[off + i] - mu) * (x[off + i] - mu);
        return (mu, v / m);
    }
}
