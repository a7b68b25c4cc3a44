using Cedm.Diffusion.Sampling;
using FluentAssertions;
using Cedm.Tests.Diffusion.Oracles;

namespace Cedm.Tests.Diffusion;

public class SigmaScheduleTests
{
    [Fact]
    public void EighteenStepsEqualTheSpecWorkedValues()
    {
        // spec §6.6 (six significant digits).
        double[] expected = [80, 57.586, 40.7856, 28.3746, 19.3525, 12.9101, 8.40094, 5.31519, 3.25682, 1.92334, 1.08817,
            0.585348, 0.296442, 0.139516, 0.0599473, 0.0229345, 0.00752802, 0.002, 0];
        var t = SigmaSchedule.Edm(18);
        t.Should().HaveCount(19);
        for (int i = 0; i < expected.Length; i++)
            t[i].Should().BeApproximately(expected[i], 5e-6 * expected[i] + 1e-12, $"t_{i}");
        t[0].Should().Be(80);
        t[17].Should().BeApproximately(0.002, 1e-15);
        new EdmSampler(new ExactGmmDenoiser(GmmFixtures.ThreeComponents()), new SamplerOptions { Solver = SamplerSolver.Heun }).Nfe.Should().Be(35);
        new EdmSampler(new ExactGmmDenoiser(GmmFixtures.ThreeComponents())).Nfe.Should().Be(18, "the default solver, DPM-Solver++(2M), evaluates once per step");
    }

    [Fact]
    public void OneStepAndBadArguments()
    {
        SigmaSchedule.Edm(1).Should().Equal(80, 0);
        FluentActions.Invoking(() => SigmaSchedule.Edm(0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => SigmaSchedule.Edm(5, sigmaMin: 0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new SamplerOptions { SChurn = -1 }.Validate()).Should().Throw<ArgumentException>();
    }
}
