using Cedm.Diffusion;
using Cedm.Tensors;

namespace Cedm.Tests.Diffusion.Oracles;

/// <summary>
/// The ideal denoiser for data ~ N(0, s²·I): D(x; σ) = x·s²/(s² + σ²), evaluated in float64 and returned in float32.
/// Its probability-flow ODE dx/dσ = (x − D)/σ = x·σ/(s² + σ²) has the exact solution
/// x(σ) = x(σ_a)·sqrt(s² + σ²)/sqrt(s² + σ_a²) (<see cref="Flow"/>), so a sampler's error is known exactly.
/// Counts its calls and the batch rows it saw.
/// </summary>
internal sealed class GaussianDenoiser(double s, int labelDim = 0) : IDenoiser
{
    public double S { get; } = s;

    public int LabelDim => labelDim;

    public int Calls { get; private set; }

    public List<int> Rows { get; } = [];

    /// <summary>x(σ_to) given x(σ_from) on the exact flow.</summary>
    public double Flow(double x, double sigmaFrom, double sigmaTo) =>
        x * Math.Sqrt(S * S + sigmaTo * sigmaTo) / Math.Sqrt(S * S + sigmaFrom * sigmaFrom);

    public Tensor Denoise(Tensor x, Tensor sigma, Conditioning? condition = null)
    {
        Calls++;
        int n = x.Dim(0), size = x.Size / n;
        Rows.Add(n);
        var output = new float[x.Size];
        for (int i = 0; i < n; i++)
        {
            double v = sigma.Data[i], gain = S * S / (S * S + v * v);
            for (int j = 0; j < size; j++) output[i * size + j] = (float)(x.Data[i * size + j] * gain);
        }
        return new Tensor(output, x.ShapeArray());
    }
}
