using Cedm.Nn.Optim;
using Cedm.Tensors;
using Cedm.Tests.TestUtilities;
using Xunit.Abstractions;

namespace Cedm.Tests.Nn;

/// <summary>
/// Parameter trajectories of our optimisers against PyTorch 1.13's (tools/fixtures/make_optim_fixtures.py):
/// 6 steps with fixed gradients of varied magnitude, a learning rate changed between steps, and one step where
/// p1 has no gradient (it must be skipped, its step count not advanced).
/// </summary>
public class OptimizerFixtureTests(ITestOutputHelper output)
{
    /// <summary>
    /// Both sides compute in float32; only the rounding of a few operations differs (e.g. PyTorch's scalar
    /// handling), so trajectories agree to a few float32 ulps of the parameters' O(1) values.
    /// </summary>
    private const double AbsTolerance = 2e-6, RelTolerance = 2e-6;

    private const int Steps = 6;

    private static readonly Lazy<FixtureFile> Fixture = new(() => FixtureFile.Load("ops/optim.bin"));

    private static Tensor Get(string name) => Fixture.Value[name];

    [Theory]
    [InlineData("sgd")]
    [InlineData("sgd_momentum_wd")]
    [InlineData("sgd_dampening")]
    [InlineData("sgd_nesterov")]
    [InlineData("adam_default")]
    [InlineData("adam_l2")]
    [InlineData("adamw")]
    [InlineData("adamw_groups")]
    public void TrajectoryMatchesPyTorch(string name)
    {
        var p0 = Get("init.p0").RequireGrad();
        var p1 = Get("init.p1").RequireGrad();
        var (opt, lr) = Make(name, p0, p1);
        var lrFactors = Get("lr_factors").Data;
        double worst = 0;
        for (int k = 0; k < Steps; k++)
        {
            opt.SetLr(lr * lrFactors[k]);
            p0.Grad = Get($"grad.{k}.p0");
            p1.Grad = Fixture.Value.Contains($"grad.{k}.p1") ? Get($"grad.{k}.p1") : null;
            opt.Step();
            foreach (var (p, key) in new[] { (p0, "p0"), (p1, "p1") })
            {
                var expected = Get($"{name}.{k}.{key}").Data;
                for (int i = 0; i < expected.Length; i++)
                {
                    double err = Math.Abs(p.Data[i] - expected[i]);
                    worst = Math.Max(worst, err);
                    Assert.True(err <= AbsTolerance + RelTolerance * Math.Abs(expected[i]),
                        $"{name} step {k} {key}[{i}]: ours {p.Data[i]:R}, PyTorch {expected[i]:R}");
                }
            }
        }
        output.WriteLine($"{name}: worst |ours − PyTorch| = {worst:G3}");
        // p1 missed one gradient, so its own step count is one behind p0's.
        if (opt is Adam) Assert.Equal(opt.StateOf(p0)!.Step - 1, opt.StateOf(p1)!.Step);
    }

    private static (Optimizer Opt, double Lr) Make(string name, Tensor p0, Tensor p1) => name switch
    {
        "sgd" => (new Sgd([p0, p1], new SgdOptions(Lr: 0.1)), 0.1),
        "sgd_momentum_wd" => (new Sgd([p0, p1], new SgdOptions(Lr: 0.1, Momentum: 0.9, WeightDecay: 0.01)), 0.1),
        "sgd_dampening" => (new Sgd([p0, p1], new SgdOptions(Lr: 0.1, Momentum: 0.8, Dampening: 0.3)), 0.1),
        "sgd_nesterov" => (new Sgd([p0, p1], new SgdOptions(Lr: 0.05, Momentum: 0.9, WeightDecay: 0.001, Nesterov: true)), 0.05),
        "adam_default" => (new Adam([p0, p1], new AdamOptions()), 1e-3),
        "adam_l2" => (new Adam([p0, p1], new AdamOptions(Lr: 1e-2, Beta1: 0.8, Beta2: 0.95, Eps: 1e-6, WeightDecay: 0.05)), 1e-2),
        "adamw" => (new AdamW([p0, p1], new AdamOptions(Lr: 1e-2, WeightDecay: 0.1)), 1e-2),
        "adamw_groups" => (new AdamW(ParamGroups.DecayAndNoDecay([("head.weight", p0), ("head.bias", p1)], 1e-2),
            new AdamOptions(Lr: 4e-4)), 4e-4),
        _ => throw new ArgumentException(name),
    };
}
