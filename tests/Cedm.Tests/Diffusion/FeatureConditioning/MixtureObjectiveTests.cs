using Cedm.Clustering;
using Cedm.Diffusion.FeatureConditioning;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Diffusion.FeatureConditioning;

/// <summary>NGMG and mixture-posterior CE (docs/feature-conditioning.md): values and gradients against finite differences.</summary>
public sealed class MixtureObjectiveTests
{
    private static MixtureObjective Objective()
    {
        var fx = FixtureFile.Load("clustering/feature_cond.bin");
        var g = ComponentGaussians.Fit(fx["z"].Data, 90, 4, fx["soft_resp"].Data, 3, new CovarianceModel(Rank: 2, Shrinkage: 0.1));
        return new MixtureObjective(new FeatureMixture(g.Dimension, g.Rank, g.Weights, g.Means, g.Diagonal, g.Factors, [0, 1, 2]));
    }

    private static void CheckGradient(Func<double[], double[], double> loss, double[] e)
    {
        var grad = new double[e.Length];
        loss(e, grad);
        var scratch = new double[e.Length];
        const double h = 1e-5;
        for (int i = 0; i < e.Length; i++)
        {
            var up = (double[])e.Clone(); up[i] += h;
            var down = (double[])e.Clone(); down[i] -= h;
            double fd = (loss(up, scratch) - loss(down, scratch)) / (2 * h);
            grad[i].Should().BeApproximately(fd, 1e-6 + 1e-5 * Math.Abs(fd), $"coordinate {i}");
        }
    }

    [Fact]
    public void NgmgAndCrossEntropyGradientsMatchFiniteDifferences()
    {
        var o = Objective();
        foreach (var e in new[] { new[] { 0.3, -0.2, 1.1, 0.4 }, new[] { -2.0, 1.5, 0.0, -0.7 } })
        {
            CheckGradient((x, g) => o.Ngmg(x, [1], g), e);
            CheckGradient((x, g) => o.Ngmg(x, [0, 2], g), e);
            CheckGradient((x, g) => o.CrossEntropy(x, 2, g), e);
        }
    }

    [Fact]
    public void NgmgOfOneComponentIsItsNegativeLogJointAndOfAllTheNegativeLogDensity()
    {
        var o = Objective();
        var e = new[] { 0.5, 0.5, -0.5, 0.2 };
        var g = new double[4];
        var v = new double[4];
        o.Ngmg(e, [1], g).Should().BeApproximately(-o.LogJoint(1, e, v), 1e-12);
        g.Should().Equal(v, "the gradient of one component is Σ⁻¹(e − μ)");
        double all = o.Ngmg(e, [0, 1, 2], g);
        double density = Enumerable.Range(0, 3).Sum(k => Math.Exp(o.LogJoint(k, e, v)));
        all.Should().BeApproximately(-Math.Log(density), 1e-12);
        o.Posterior(e).Sum().Should().BeApproximately(1, 1e-12);
    }

    /// <summary>
    /// The property the seed claims for NGMG, on two 1-D components: far beyond the target's mean on its own side the
    /// posterior is already ≈ 1, so the CE gradient vanishes; NGMG still pulls back, in proportion to the distance.
    /// </summary>
    [Fact]
    public void CrossEntropySaturatesWhereNgmgStillPulls()
    {
        var o = new MixtureObjective(new FeatureMixture(1, 0, [0.5, 0.5], [-1, 1], [1, 1], [], [0, 1]));
        var g = new double[1];
        double[] far = [8];
        o.CrossEntropy(far, 1, g);
        Math.Abs(g[0]).Should().BeLessThan(1e-6);
        o.Ngmg(far, [1], g);
        g[0].Should().BeApproximately(7, 1e-9, "Σ⁻¹(e − μ) = 8 − 1");
    }
}
