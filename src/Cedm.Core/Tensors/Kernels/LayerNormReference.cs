namespace Cedm.Tensors.Kernels;

/// <summary>
/// Plain layer normalisation over the last dimension in double: the oracle for <see cref="LayerNormKernel"/>.
/// It is group normalisation of the [R, 1, D] view with one group, except that the affine is per feature,
/// so the backward uses the staged chain rule (dvar, dμ, dx) like <see cref="GroupNormReference"/>.
/// </summary>
internal static class LayerNormReference
{
    public static float[] Forward(float[] x, int rows, int d, float[]? gamma, float[]? beta, float eps)
    {
        var y = new float[x.Length];
        for (int row = 0; row < rows; row++)
        {
            var (mu, r) = Stats(x, row * d, d, eps);
            for (int i = 0; i < d; i++)
                y[row * d + i] = (float)((x[row * d + i] - mu) * r * (gamma?[i] ?? 1.0) + (beta?[i] ?? 0.0));
        }
        return y;
    }

    public static (float[] Dx, float[] DGamma, float[] DBeta) Backward(float[] x, float[] dy, int rows, int d, float[]? gamma, float eps)
    {
        var dx = new float[x.Length];
        var dGamma = new double[d];
        var dBeta = new double[d];
        var u = new double[d];
        for (int row = 0; row < rows; row++)
        {
            int off = row * d;
            var (mu, r) = Stats(x, off, d, eps);
            double dvar = 0, dmu = 0, sumCentred = 0;
            for (int i = 0; i < d; i++)
            {
                double xc = x[off + i] - mu;
                dBeta[i] += dy[off + i];
                dGamma[i] += dy[off + i] * xc * r;
                u[i] = dy[off + i] * (gamma?[i] ?? 1.0);
                dvar += u[i] * xc * -0.5 * r * r * r;
                dmu -= u[i] * r;
                sumCentred += xc;
            }
            dmu += dvar * -2.0 * sumCentred / d;
            for (int i = 0; i < d; i++)
                dx[off + i] = (float)(u[i] * r + dvar * 2.0 * (x[off + i] - mu) / d + dmu / d);
        }
        return (dx, dGamma.Select(v => (float)v).ToArray(), dBeta.Select(v => (float)v).ToArray());
    }

    private static (double Mean, double Rstd) Stats(float[] x, int off, int d, float eps)
    {
        double mu = 0;
        for (int i = 0; i < d; i++) mu += x[off + i];
        mu /= d;
        double v = 0;
        for (int i = 0; i < d; i++) v += (x[off + i] - mu) * (x[off + i] - mu);
        return (mu, 1.0 / Math.Sqrt(v / d + eps));
    }
}
