namespace Cedm.Tensors.Kernels;

/// <summary>
/// Direct loops (double) for the spatial self-attention of spec §2.2, indexing qkv exactly as the reference
/// <c>qkv.reshape(B·heads, C/heads, 3, H·W).unbind(2)</c> does: channel (h·d + c)·3 + {0: q, 1: k, 2: v}.
/// The oracle for <see cref="AttentionKernel"/>'s layout.
/// </summary>
internal static class AttentionReference
{
    /// <summary>qkv [B, 3C, T] → a [B, C, T].</summary>
    public static float[] Spatial(float[] qkv, int b, int c, int t, int heads)
    {
        int d = c / heads;
        var a = new float[b * c * t];
        var w = new double[t];
        double scale = 1.0 / Math.Sqrt(d);
        for (int bi = 0; bi < b; bi++)
            for (int h = 0; h < heads; h++)
            {
                double Q(int ch, int i) => qkv[((bi * 3 * c) + (h * d + ch) * 3 + 0) * t + i];
                double K(int ch, int j) => qkv[((bi * 3 * c) + (h * d + ch) * 3 + 1) * t + j];
                double V(int ch, int j) => qkv[((bi * 3 * c) + (h * d + ch) * 3 + 2) * t + j];
                for (int i = 0; i < t; i++)
                {
                    double max = double.NegativeInfinity, sum = 0;
                    for (int j = 0; j < t; j++)
                    {
                        double s = 0;
                        for (int ch = 0; ch < d; ch++) s += Q(ch, i) * K(ch, j);
                        w[j] = s * scale;
                        max = Math.Max(max, w[j]);
                    }
                    for (int j = 0; j < t; j++) { w[j] = Math.Exp(w[j] - max); sum += w[j]; }
                    for (int ch = 0; ch < d; ch++)
                    {
                        double o = 0;
                        for (int j = 0; j < t; j++) o += w[j] / sum * V(ch, j);
                        a[(bi * c + h * d + ch) * t + i] = (float)o;
                    }
                }
            }
        return a;
    }

    /// <summary>q [B, Tq, d], k [B, Tk, d], v [B, Tk, dv] → [B, Tq, dv], scale 1/sqrt(d).</summary>
    public static float[] Token(float[] q, float[] k, float[] v, int b, int tq, int tk, int d, int dv)
    {
        var o = new float[b * tq * dv];
        var w = new double[tk];
        double scale = 1.0 / Math.Sqrt(d);
        for (int bi = 0; bi < b; bi++)
            for (int i = 0; i < tq; i++)
            {
                double max = double.NegativeInfinity, sum = 0;
                for (int j = 0; j < tk; j++)
                {
                    double s = 0;
                    for (int ch = 0; ch < d; ch++) s += q[(bi * tq + i) * d + ch] * (double)k[(bi * tk + j) * d + ch];
                    w[j] = s * scale;
                    max = Math.Max(max, w[j]);
                }
                for (int j = 0; j < tk; j++) { w[j] = Math.Exp(w[j] - max); sum += w[j]; }
                for (int ch = 0; ch < dv; ch++)
                {
                    double acc = 0;
                    for (int j = 0; j < tk; j++) acc += w[j] / sum * v[(bi * tk + j) * dv + ch];
                    o[(bi * tq + i) * dv + ch] = (float)acc;
                }
            }
        return o;
    }
}
