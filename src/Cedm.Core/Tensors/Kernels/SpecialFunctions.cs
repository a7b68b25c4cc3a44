namespace Cedm.Tensors.Kernels;

/// <summary>Scalar special functions that TensorPrimitives does not provide.</summary>
internal static class SpecialFunctions
{
    /// <summary>
    /// The error function via Abramowitz and Stegun 7.1.26 in double precision
    /// (absolute error below 1.5e-7, i.e. within float32 resolution around the GELU's range).
    /// </summary>
    public static double Erf(double x)
    {
        double sign = x < 0 ? -1 : 1;
        x = Math.Abs(x);
        double t = 1.0 / (1.0 + 0.3275911 * x);
        double poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        return sign * (1.0 - poly * Math.Exp(-x * x));
    }

    /// <summary>Standard normal CDF Φ(x) = (1 + erf(x/√2)) / 2.</summary>
    public static double NormalCdf(double x) => 0.5 * (1.0 + Erf(x * 0.70710678118654752));

    /// <summary>Standard normal density φ(x).</summary>
    public static double NormalPdf(double x) => 0.3989422804014327 * Math.Exp(-0.5 * x * x);
}
