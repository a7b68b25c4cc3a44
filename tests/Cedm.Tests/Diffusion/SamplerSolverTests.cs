using Cedm.Diffusion;
using Cedm.Diffusion.Labels;
using Cedm.Diffusion.Sampling;
using Cedm.Tensors;
using Cedm.Tests.Diffusion.Oracles;
using FluentAssertions;
using Xunit.Abstractions;

namespace Cedm.Tests.Diffusion;

/// <summary>
/// The sampler's ODE solvers (Heun, DPM-Solver++(2M)) against exact answers: the flow of Gaussian data, which has a
/// closed form, and a Gaussian mixture's flow solved with many Heun steps; the first-order step, the final step to
/// σ = 0, the per-seed contract and the evaluation counts.
/// </summary>
public class SamplerSolverTests(ITestOutputHelper output)
{
    private const double S = 0.5;   // data std (σ_data of EDM)

    private static readonly long[] FourSeeds = [3, 4, 5, 6];

    /// <summary>Max relative error of the samples against the exact x(0) = x(σ_max)·s/sqrt(s² + σ_max²) of each latent.</summary>
    private static double GaussianError(SamplerSolver solver, int steps)
    {
        var den = new GaussianDenoiser(S);
        var options = new SamplerOptions { Solver = solver, Steps = steps };
        var sampler = new EdmSampler(den, options);
        var r = sampler.Sample(FourSeeds, 1, 2, 3);
        int size = 6;
        double worst = 0;
        for (int i = 0; i < FourSeeds.Length; i++)
        {
            var rng = new Rng(FourSeeds[i]);
            for (int j = 0; j < size; j++)
            {
                double x0 = rng.NextNormal() * sampler.TimeSteps[0];
                double exact = den.Flow(x0, sampler.TimeSteps[0], 0);
                worst = Math.Max(worst, Math.Abs(r.Images[i * size + j] - exact) / Math.Abs(exact));
            }
        }
        return worst;
    }

    [Theory]
    [InlineData(SamplerSolver.Heun)]
    [InlineData(SamplerSolver.DpmSolver2M)]
    public void BothSolversConvergeToTheExactFlowOfGaussianDataAtSecondOrder(SamplerSolver solver)
    {
        int[] steps = [8, 16, 32, 64, 128, 256];
        var errors = steps.Select(n => GaussianError(solver, n)).ToArray();
        for (int k = 0; k < steps.Length; k++)
            output.WriteLine($"{solver} N = {steps[k]}: relative error {errors[k]:E3}{(k > 0 ? $", ratio {errors[k - 1] / errors[k]:F2}" : "")}");
        // Measured (E3): Heun 3.94e-1, 7.22e-2, 1.57e-2, 3.66e-3, 8.80e-4, 2.10e-4; DPM-Solver++(2M) 1.51e-1, 8.01e-2,
        // 1.70e-2, 3.80e-3, 8.96e-4, 2.12e-4: halving the step divides the error by 4.2–4.7 from N = 32 on (second
        // order: 4; first order would give 2).
        for (int k = 2; k < steps.Length - 1; k++)
            (errors[k] / errors[k + 1]).Should().BeGreaterThan(3.5, $"{solver}: error ratio from N = {steps[k]} to {steps[k + 1]}");
        errors[^1].Should().BeLessThan(5e-4, $"{solver} at 256 steps reaches the exact x(0)");
    }

    [Fact]
    public void AtEqualNetworkEvaluationsDpmSolverIsCloserToTheExactFlow()
    {
        // Heun with N steps costs 2N − 1 evaluations; DPM-Solver++(2M) with 2N − 1 steps costs the same.
        foreach (int n in new[] { 16, 32, 64 })
        {
            double heun = GaussianError(SamplerSolver.Heun, n), dpm = GaussianError(SamplerSolver.DpmSolver2M, 2 * n - 1);
            output.WriteLine($"{2 * n - 1} evaluations: Heun {heun:E3}, DPM-Solver++(2M) {dpm:E3}");
            dpm.Should().BeLessThan(heun / 2, $"{2 * n - 1} evaluations");
        }
    }

    [Fact]
    public void OnAGaussianMixtureDpmSolverAtModerateStepsMatchesHeunAtManySteps()
    {
        // The same latents through the mixture's probability flow: Heun at 256 steps (511 evaluations) is the reference.
        var gmm = GmmFixtures.ThreeComponents();
        var seeds = Enumerable.Range(0, 400).Select(i => (long)i).ToArray();
        SampleResult Run(SamplerSolver solver, int steps) =>
            new EdmSampler(new ExactGmmDenoiser(gmm), new SamplerOptions { Solver = solver, Steps = steps, BatchSize = 400 }).Sample(seeds, 1, 1, 2);
        var reference = Run(SamplerSolver.Heun, 256);
        double MeanDistance(SampleResult r) => Enumerable.Range(0, seeds.Length).Average(i =>
            Math.Sqrt(Math.Pow(r.Images[2 * i] - reference.Images[2 * i], 2) + Math.Pow(r.Images[2 * i + 1] - reference.Images[2 * i + 1], 2)));
        var dpm32 = MeanDistance(Run(SamplerSolver.DpmSolver2M, 32));
        var dpm64 = MeanDistance(Run(SamplerSolver.DpmSolver2M, 64));
        var heun16 = MeanDistance(Run(SamplerSolver.Heun, 16));
        output.WriteLine($"mean distance to Heun-256: DPM-Solver++(2M) 32 steps {dpm32:E3}, 64 steps {dpm64:E3}; Heun 16 steps (31 evaluations) {heun16:E3}");
        dpm32.Should().BeLessThan(0.01, "32 evaluations land within 0.01 of the converged flow (components are ~0.1 wide)");
        dpm64.Should().BeLessThan(dpm32 / 3, "second order: twice the steps, a quarter of the error");
        dpm32.Should().BeLessThan(heun16, "at about equal evaluations (32 vs 31)");
    }

    [Fact]
    public void TheFirstStepIsTheEulerStepTheSecondIsTwoMAndTheLastReturnsTheDataPrediction()
    {
        // D(x; σ) = x·a(σ) + b: not the exact denoiser of anything, so every coefficient of the update shows.
        var rec = new AffineRecordingDenoiser();
        var sampler = new EdmSampler(rec, new SamplerOptions { Solver = SamplerSolver.DpmSolver2M, Steps = 3, BatchSize = 1 });
        var result = sampler.Sample([11], 1, 1, 1);
        var t = sampler.TimeSteps;
        rec.Calls.Should().HaveCount(3, "one evaluation per non-zero level");
        rec.Calls.Select(c => (double)c.Sigma).Should().Equal(t.Take(3).Select(v => (double)(float)v));

        double x0 = new Rng(11).NextNormal() * t[0];
        double d0 = rec.Calls[0].Output;
        double euler = x0 + (t[1] - t[0]) * (x0 - d0) / t[0];   // EDM's Euler step = DDIM
        ((double)rec.Calls[1].X).Should().BeApproximately(euler, 1e-6 * Math.Abs(euler) + 1e-6);

        double x1 = rec.Calls[1].X, d1 = rec.Calls[1].Output;
        double h0 = Math.Log(t[0] / t[1]), h1 = Math.Log(t[1] / t[2]), r = h0 / h1;
        double dPrime = (1 + 1 / (2 * r)) * d1 - 1 / (2 * r) * d0;
        double x2 = t[2] / t[1] * x1 - (Math.Exp(-h1) - 1) * dPrime;
        ((double)rec.Calls[2].X).Should().BeApproximately(x2, 1e-6 * Math.Abs(x2) + 1e-6);

        result.Images[0].Should().Be(rec.Calls[2].Output, "x_N = D(x_{N−1}; σ_{N−1}) exactly");
    }

    [Fact]
    public void ASeedGivesTheSameImageAtAnyBatchSizeAndStartsFromHeunsLatent()
    {
        var den = new ExactGmmDenoiser(GmmFixtures.ThreeComponents(), conditional: true);
        long[] seeds = [5, 6, 7, 8, 9, 10, 11];
        var draw = ConditionDraw.Empirical([5, 3, 2]);
        var dpm = new SamplerOptions { Solver = SamplerSolver.DpmSolver2M, Steps = 7 };
        var whole = new EdmSampler(den, dpm with { BatchSize = 7 }).Sample(seeds, 1, 1, 2, draw);
        var single = new EdmSampler(den, dpm with { BatchSize = 1 }).Sample(seeds, 1, 1, 2, draw);
        var reordered = new EdmSampler(den, dpm with { BatchSize = 2 }).Sample([9, 7, 5], 1, 1, 2, draw);
        single.Images.Should().Equal(whole.Images);
        single.Conditions.Should().Equal(whole.Conditions);
        reordered.Images.Should().Equal(whole.Images[8..10].Concat(whole.Images[4..6]).Concat(whole.Images[0..2]));
        whole.Conditions.Should().Equal(new EdmSampler(den, new SamplerOptions { Solver = SamplerSolver.Heun, Steps = 7 }).Sample(seeds, 1, 1, 2, draw).Conditions,
            "the condition is drawn after the same latent under either solver");

        // The first network input is x_0 = t_0·z under both solvers.
        var heunRec = new AffineRecordingDenoiser();
        var dpmRec = new AffineRecordingDenoiser();
        new EdmSampler(heunRec, new SamplerOptions { Solver = SamplerSolver.Heun, Steps = 4 }).Sample([42], 1, 1, 1);
        new EdmSampler(dpmRec, dpm with { Steps = 4 }).Sample([42], 1, 1, 1);
        dpmRec.Calls[0].X.Should().Be(heunRec.Calls[0].X);
        dpmRec.Calls[0].X.Should().Be((float)(new Rng(42).NextNormal() * SigmaSchedule.Edm(4)[0]));
    }

    [Theory]
    [InlineData(SamplerSolver.Heun, 1, 1)]
    [InlineData(SamplerSolver.Heun, 5, 9)]
    [InlineData(SamplerSolver.Heun, 18, 35)]
    [InlineData(SamplerSolver.DpmSolver2M, 1, 1)]
    [InlineData(SamplerSolver.DpmSolver2M, 5, 5)]
    [InlineData(SamplerSolver.DpmSolver2M, 18, 18)]
    public void NfeCountsTheNetworkCalls(SamplerSolver solver, int steps, int expected)
    {
        var den = new GaussianDenoiser(S);
        var sampler = new EdmSampler(den, new SamplerOptions { Solver = solver, Steps = steps, BatchSize = 8 });
        sampler.Sample([1, 2, 3], 1, 2, 2);
        sampler.Nfe.Should().Be(expected);
        den.Calls.Should().Be(expected);
        SamplerSolvers.Evaluations(solver, steps).Should().Be(expected);
    }

    [Fact]
    public void GuidanceWrapsEveryDpmSolverEvaluation()
    {
        // Classifier-free guidance evaluates conditional and unconditional rows as one doubled batch per step.
        var den = new GaussianDenoiser(S, labelDim: 3);
        var sampler = new EdmSampler(den, new SamplerOptions { Solver = SamplerSolver.DpmSolver2M, Steps = 6, Guidance = 2 });
        sampler.Sample([1, 2, 3], 1, 2, 2, ConditionDraw.Uniform(3));
        den.Calls.Should().Be(sampler.Nfe).And.Be(6);
        den.Rows.Should().OnlyContain(n => n == 6, "3 images, conditional and unconditional halves");
    }

    [Fact]
    public void ChurnNeedsHeunAndDpmSolverIsTheDefault()
    {
        new SamplerOptions().Solver.Should().Be(SamplerSolver.DpmSolver2M);
        var churned = new SamplerOptions { Solver = SamplerSolver.DpmSolver2M, SChurn = 1 };
        FluentActions.Invoking(churned.Validate).Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == "SChurn" && e.Message.Contains("heun") && e.Message.Contains("dpm2m"));
        FluentActions.Invoking(() => new EdmSampler(new GaussianDenoiser(S), churned)).Should().Throw<ArgumentException>();
        new SamplerOptions { Solver = SamplerSolver.DpmSolver2M, SMin = 0.1, SMax = 10, SNoise = 1.003 }.Validate();
        FluentActions.Invoking(new SamplerOptions { Solver = (SamplerSolver)7 }.Validate).Should().Throw<ArgumentException>().Where(e => e.ParamName == "Solver");
        SamplerSolvers.Parse("dpm2m").Should().Be(SamplerSolver.DpmSolver2M);
        SamplerSolvers.Names.Select(n => SamplerSolvers.Name(SamplerSolvers.Parse(n))).Should().Equal(SamplerSolvers.Names);
        FluentActions.Invoking(() => SamplerSolvers.Parse("euler")).Should().Throw<SettingException>().Where(e => e.Setting == "Solver");
    }

    /// <summary>D(x; σ) = 0.3·x/(1 + σ) + 0.2, recording each call's input, σ and output (one value per image).</summary>
    private sealed class AffineRecordingDenoiser : IDenoiser
    {
        public List<(float X, float Sigma, float Output)> Calls { get; } = [];

        public int LabelDim => 0;

        public Tensor Denoise(Tensor x, Tensor sigma, Conditioning? condition = null)
        {
            var output = new float[x.Size];
            for (int i = 0; i < x.Size; i++) output[i] = (float)(0.3 * x.Data[i] / (1 + sigma.Data[0]) + 0.2);
            Calls.Add((x.Data[0], sigma.Data[0], output[0]));
            return new Tensor(output, x.ShapeArray());
        }
    }
}
