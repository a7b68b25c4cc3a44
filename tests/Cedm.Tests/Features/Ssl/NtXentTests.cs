using Cedm.Features.Ssl;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;
using FluentAssertions;

namespace Cedm.Tests.Features.Ssl;

/// <summary>NT-Xent against a direct double-precision evaluation of Chen et al.'s eq. 1, and its gradient.</summary>
public sealed class NtXentTests
{
    /// <summary>ℓ = mean over i of −log(exp(cos(z_i, z_j(i))/τ) / Σ_{k≠i} exp(cos(z_i, z_k)/τ)), in doubles.</summary>
    private static double Direct(float[] z, int n, int p, double tau)
    {
        var u = new double[n * p];
        for (int i = 0; i < n; i++)
        {
            double norm = Math.Sqrt(Enumerable.Range(0, p).Sum(k => (double)z[i * p + k] * z[i * p + k]));
            for (int k = 0; k < p; k++) u[i * p + k] = z[i * p + k] / norm;
        }
        double Cos(int a, int b) => Enumerable.Range(0, p).Sum(k => u[a * p + k] * u[b * p + k]);
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            int j = i < n / 2 ? i + n / 2 : i - n / 2;
            double denom = Enumerable.Range(0, n).Where(k => k != i).Sum(k => Math.Exp(Cos(i, k) / tau));
            total += -Math.Log(Math.Exp(Cos(i, j) / tau) / denom);
        }
        return total / n;
    }

    [Theory]
    [InlineData(0.5, 1)]
    [InlineData(0.2, 2)]
    public void MatchesTheDirectFormula(double tau, int seed)
    {
        var z = Tensor.Randn(new Rng(seed), [12, 5]);
        double expected = Direct(z.Data, 12, 5, tau);
        NtXent.Loss(z, tau).Data[0].Should().BeApproximately((float)expected, (float)(1e-5 * Math.Max(1, expected)));
    }

    [Fact]
    public void AlignedPairsGiveALowerLossThanRandomOnes()
    {
        var rng = new Rng(3);
        var half = Tensor.Randn(rng, [8, 16]);
        var aligned = Tensor.Concat(0, half, half);
        var random = Tensor.Randn(rng, [16, 16]);
        NtXent.Loss(aligned, 0.5).Data[0].Should().BeLessThan(NtXent.Loss(random, 0.5).Data[0]);
    }

    [Fact]
    public void GradientMatchesFiniteDifferences()
    {
        var z = Tensor.Randn(new Rng(5), [6, 4]).RequireGrad();
        var result = GradCheck.Check(t => NtXent.Loss(t[0], 0.5), [z]);
        result.Passed.Should().BeTrue(result.ToString());
    }

    [Fact]
    public void RejectsAnOddBatch()
    {
        var act = () => NtXent.Loss(Tensor.Zeros(3, 4), 0.5);
        act.Should().Throw<ArgumentException>().WithMessage("*[2B, P]*");
    }
}
