using Cedm.Diffusion.Labels;
using Cedm.Diffusion.Sampling;
using FluentAssertions;
using Xunit.Abstractions;
using Cedm.Tests.Diffusion.Oracles;

namespace Cedm.Tests.Diffusion;

/// <summary>
/// The sampler alone, driven by the exact denoiser of a known 2-D Gaussian mixture (treated as [N, 1, 1, 2] images):
/// its outputs must have the mixture's component weights, means and covariances.
/// Tolerances are ~4–5 standard errors of the estimates at n = 3000 plus an allowance for discretisation error
/// (see <see cref="CheckMatches"/>).
/// </summary>
public class ExactGmmSamplerTests(ITestOutputHelper output)
{
    private const int N = 3000;

    private static long[] Seeds(int n, long first = 0) => Enumerable.Range(0, n).Select(i => first + i).ToArray();

    [Fact]
    public void DeterministicHeunReproducesTheMixture()
    {
        var gmm = GmmFixtures.ThreeComponents();
        var result = new EdmSampler(new ExactGmmDenoiser(gmm), new SamplerOptions { Solver = SamplerSolver.Heun, BatchSize = 500 }).Sample(Seeds(N), 1, 1, 2);
        // 18 steps (EDM's default) over-disperse these narrow components (std ≈ 0.08–0.16, far below σ_data = 0.5) by
        // ~10–20% in variance; the error shrinks with more steps (next test), so it is discretisation, not bias.
        CheckMatches(gmm, result, "deterministic, 18 steps", covTolerance: 0.25);
    }

    [Fact]
    public void MoreStepsConvergeToTheMixture()
    {
        var gmm = GmmFixtures.ThreeComponents();
        var result = new EdmSampler(new ExactGmmDenoiser(gmm), new SamplerOptions { Solver = SamplerSolver.Heun, Steps = 64, BatchSize = 500 }).Sample(Seeds(N), 1, 1, 2);
        CheckMatches(gmm, result, "deterministic, 64 steps", covTolerance: 0.10);
    }

    [Fact]
    public void DpmSolverReproducesTheMixture()
    {
        // 64 steps = 64 evaluations (Heun's 64 steps above take 127). Measured at 32 steps: weights and means within
        // tolerance, but component 1's cov[1,1] 0.0276 vs 0.025 (10.4% of it, the over-dispersion of too few steps
        // that Heun shows at 18); at 64 steps 0.0267, within the 10% of the many-step Heun test.
        var gmm = GmmFixtures.ThreeComponents();
        var options = new SamplerOptions { Solver = SamplerSolver.DpmSolver2M, Steps = 64, BatchSize = 500 };
        var result = new EdmSampler(new ExactGmmDenoiser(gmm), options).Sample(Seeds(N), 1, 1, 2);
        CheckMatches(gmm, result, "DPM-Solver++(2M), 64 steps", covTolerance: 0.10);
    }

    [Fact]
    public void StochasticHeunReproducesTheMixture()
    {
        var gmm = GmmFixtures.ThreeComponents();
        var options = new SamplerOptions { Solver = SamplerSolver.Heun, Steps = 128, SChurn = 40, SMin = 0.01, SMax = 10, SNoise = 1, BatchSize = 500 };
        var result = new EdmSampler(new ExactGmmDenoiser(gmm), options).Sample(Seeds(N, 10_000), 1, 1, 2);
        CheckMatches(gmm, result, "stochastic, 128 steps, S_churn 40", covTolerance: 0.10);
    }

    [Fact]
    public void ConditioningOnAComponentGivesSamplesOfThatComponentOnly()
    {
        var gmm = GmmFixtures.ThreeComponents();
        var sampler = new EdmSampler(new ExactGmmDenoiser(gmm, conditional: true), new SamplerOptions { Solver = SamplerSolver.Heun, BatchSize = 500 });
        for (int c = 0; c < 3; c++)
        {
            var r = sampler.Sample(Seeds(1000, 100_000 * c), 1, 1, 2, ConditionDraw.Fixed(c, 3));
            r.Conditions.Should().AllBeEquivalentTo(c);
            var comp = Assign(gmm, r);
            comp.Count(k => k == c).Should().BeGreaterThanOrEqualTo(995, $"component {c}");
            var mean = Mean(r, Enumerable.Range(0, r.Count));
            for (int j = 0; j < 2; j++) mean[j].Should().BeApproximately(gmm.Means[c][j], 0.025, $"component {c} mean[{j}]");
        }
        // The conditional model with p(c) = π draws conditions in proportion and still reproduces the mixture.
        var all = sampler.Sample(Seeds(N), 1, 1, 2, ConditionDraw.Empirical([500, 300, 200]));
        CheckMatches(gmm, all, "conditional, p(c) = π", covTolerance: 0.25);
        var drawn = Assign(gmm, all);
        (drawn.Zip(all.Conditions).Count(p => p.First == p.Second) / (double)N).Should().BeGreaterThan(0.99, "samples belong to their drawn condition");
    }

    [Fact]
    public void GuidanceSharpensTowardsTheConditionWithoutLeavingIt()
    {
        // With w > 0 the guided field still ends inside the conditioned component (the exact conditional score is
        // pushed further from the unconditional one), so membership stays ~100% while the spread shrinks.
        var gmm = GmmFixtures.ThreeComponents();
        var plain = new EdmSampler(new ExactGmmDenoiser(gmm, true), new SamplerOptions { Solver = SamplerSolver.Heun, BatchSize = 500 }).Sample(Seeds(1000), 1, 1, 2, ConditionDraw.Fixed(1, 3));
        var guided = new EdmSampler(new ExactGmmDenoiser(gmm, true), new SamplerOptions { Solver = SamplerSolver.Heun, BatchSize = 500, Guidance = 2 }).Sample(Seeds(1000), 1, 1, 2, ConditionDraw.Fixed(1, 3));
        Assign(gmm, guided).Count(k => k == 1).Should().BeGreaterThanOrEqualTo(995);
        Trace(Covariance(guided, Enumerable.Range(0, 1000))).Should().BeLessThan(Trace(Covariance(plain, Enumerable.Range(0, 1000))));
    }

    private void CheckMatches(GmmDistribution gmm, SampleResult r, string what, double covTolerance)
    {
        r.Images.Should().OnlyContain(v => float.IsFinite(v));
        var comp = Assign(gmm, r);
        for (int c = 0; c < gmm.Components; c++)
        {
            var idx = Enumerable.Range(0, r.Count).Where(i => comp[i] == c).ToArray();
            double weight = idx.Length / (double)r.Count;
            var mean = Mean(r, idx);
            var cov = Covariance(r, idx);
            output.WriteLine($"{what}: component {c}: weight {weight:F4} (π {gmm.Weights[c]}), mean ({mean[0]:F4}, {mean[1]:F4}) vs ({gmm.Means[c][0]}, {gmm.Means[c][1]}), " +
                             $"cov [{cov[0, 0]:F4} {cov[0, 1]:F4}; {cov[1, 1]:F4}] vs [{gmm.Covariances[c][0, 0]} {gmm.Covariances[c][0, 1]}; {gmm.Covariances[c][1, 1]}]");
            // Weight: binomial SE sqrt(π(1−π)/n) ≤ 0.0091 at n = 3000 → tolerance 0.035 (~4 SE).
            weight.Should().BeApproximately(gmm.Weights[c], 0.035, $"{what}: weight of component {c}");
            for (int j = 0; j < 2; j++)
            {
                // Mean: SE = sqrt(Σ_jj / n_c) ≤ sqrt(0.025/600) = 0.0065 → tolerance 0.03.
                mean[j].Should().BeApproximately(gmm.Means[c][j], 0.03, $"{what}: mean[{j}] of component {c}");
                for (int l = 0; l < 2; l++)
                {
                    // Covariance entries: SE ≈ sqrt((Σ_jj Σ_ll + Σ_jl²)/n_c) ≤ 0.0015 (≈ 6% of max Σ_jj) → tolerance
                    // covTolerance·max(Σ_jj): 10% with many steps, 25% at 18 steps (discretisation, see above).
                    double scale = Math.Max(gmm.Covariances[c][0, 0], gmm.Covariances[c][1, 1]);
                    cov[j, l].Should().BeApproximately(gmm.Covariances[c][j, l], covTolerance * scale, $"{what}: cov[{j},{l}] of component {c}");
                }
            }
        }
    }

    private static int[] Assign(GmmDistribution gmm, SampleResult r) =>
        Enumerable.Range(0, r.Count).Select(i =>
        {
            var resp = gmm.Responsibilities([r.Images[2 * i], r.Images[2 * i + 1]], 0);
            return Array.IndexOf(resp, resp.Max());
        }).ToArray();

    private static double[] Mean(SampleResult r, IEnumerable<int> idx)
    {
        var list = idx.ToList();
        return [list.Average(i => (double)r.Images[2 * i]), list.Average(i => (double)r.Images[2 * i + 1])];
    }

    private static double[,] Covariance(SampleResult r, IEnumerable<int> idx)
    {
        var list = idx.ToList();
        var m = Mean(r, list);
        var c = new double[2, 2];
        foreach (int i in list)
            for (int j = 0; j < 2; j++)
                for (int l = 0; l < 2; l++) c[j, l] += (r.Images[2 * i + j] - m[j]) * (r.Images[2 * i + l] - m[l]) / (list.Count - 1);
        return c;
    }

    private static double Trace(double[,] c) => c[0, 0] + c[1, 1];
}
