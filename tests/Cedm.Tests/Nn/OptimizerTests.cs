using Cedm.Nn;
using Cedm.Nn.Optim;
using Cedm.Tensors;

namespace Cedm.Tests.Nn;

public class OptimizerTests
{
    private static void FakeGrads(Module m, ulong seed)
    {
        var rng = new Rng(seed);
        foreach (var p in m.Parameters()) p.Grad = Tensor.Randn(rng, p.ShapeArray());
    }

    [Fact]
    public void DecayGroupsFollowTemiRule()
    {
        var net = new Sequential(new Linear(4, 3, new Rng(1)), new WeightNormLinear(3, 2, new Rng(2)));
        var groups = ParamGroups.DecayAndNoDecay(net.NamedParameters(), 1e-4);
        var all = net.NamedParameters().ToDictionary(p => p.Path, p => p.Tensor);
        Assert.Equal(new[] { all["0.weight"], all["1.weight_g"], all["1.weight_v"] }, groups[0].Parameters);
        Assert.Equal(new[] { all["0.bias"] }, groups[1].Parameters);
        Assert.Equal(1e-4, groups[0].WeightDecay);
        Assert.Equal(0.0, groups[1].WeightDecay);
    }

    [Fact]
    public void GroupDefaultsComeFromOptionsAndSetLrChangesAll()
    {
        var a = Tensor.Zeros(2).RequireGrad();
        var b = Tensor.Zeros(2).RequireGrad();
        var opt = new AdamW([new ParamGroup([a]), new ParamGroup([b], weightDecay: 0, lr: 5e-3)], new AdamOptions(Lr: 1e-3, WeightDecay: 0.1));
        Assert.Equal((1e-3, 0.1), (opt.Groups[0].Lr!.Value, opt.Groups[0].WeightDecay!.Value));
        Assert.Equal((5e-3, 0.0), (opt.Groups[1].Lr!.Value, opt.Groups[1].WeightDecay!.Value));
        opt.SetLr(2e-4);
        Assert.All(opt.Groups, g => Assert.Equal(2e-4, g.Lr));
        Assert.Throws<ArgumentException>(() => new Adam([new ParamGroup([a]), new ParamGroup([a])]));
    }

    [Fact]
    public void ZeroLearningRateLeavesParametersUnchanged()
    {
        // EDM's first step runs with lr 0 (warm-up, spec §1.4): moments advance, parameters do not move.
        var net = new ToyNet(new Rng(1));
        var before = net.Parameters().Select(p => p.ToArray()).ToList();
        var opt = new Adam(net.Parameters(), new AdamOptions(Lr: 0));
        FakeGrads(net, 2);
        opt.Step();
        Assert.Equal(before, net.Parameters().Select(p => p.Data));
        Assert.Equal(1, opt.StateOf(net.Head.Weight)!.Step);
    }

    [Theory]
    [InlineData("adam")]
    [InlineData("sgd")]
    public void StateDictRoundTripResumesIdentically(string kind)
    {
        Optimizer Make(Module m) => kind == "adam"
            ? new AdamW(m.Parameters(), new AdamOptions(Lr: 1e-2, WeightDecay: 0.01))
            : new Sgd(m.Parameters(), new SgdOptions(Lr: 0.1, Momentum: 0.9));
        var a = new ToyNet(new Rng(1));
        var optA = Make(a);
        for (ulong s = 0; s < 3; s++) { FakeGrads(a, s); optA.Step(); }

        var b = new ToyNet(new Rng(99));
        b.LoadStateDict(a.StateDict());
        var optB = Make(b);
        var state = optA.StateDict();
        Assert.Equal(kind == "adam" ? 15 : 10, state.Count); // 5 parameters × (step + buffers)
        Assert.Equal(3f, state["state.0.step"].Item());
        optB.LoadStateDict(state);

        for (ulong s = 3; s < 5; s++)
        {
            FakeGrads(a, s); optA.Step();
            FakeGrads(b, s); optB.Step();
        }
        foreach (var (k, t) in a.StateDict()) Assert.Equal(t.Data, b.StateDict()[k].Data);
    }

    [Fact]
    public void LoadStateDictRejectsBadKeysAndShapes()
    {
        var p = Tensor.Zeros(3).RequireGrad();
        var opt = new Adam([p]);
        p.Grad = Tensor.Ones(3);
        opt.Step();
        var good = opt.StateDict();

        var wrongShape = new Dictionary<string, Tensor>(good) { ["state.0.exp_avg"] = Tensor.Zeros(4) };
        Assert.Contains("[4]", Assert.Throws<StateDictException>(() => opt.LoadStateDict(wrongShape)).Message);

        var extra = new Dictionary<string, Tensor>(good) { ["state.1.exp_avg"] = Tensor.Zeros(3) };
        Assert.Contains("unexpected keys: state.1.exp_avg", Assert.Throws<StateDictException>(() => opt.LoadStateDict(extra)).Message);

        var missing = new Dictionary<string, Tensor>(good);
        missing.Remove("state.0.exp_avg_sq");
        Assert.Contains("missing keys: state.0.exp_avg_sq", Assert.Throws<StateDictException>(() => opt.LoadStateDict(missing)).Message);

        opt.LoadStateDict(good); // still fine
        Assert.Equal(1, opt.StateOf(p)!.Step);
    }

    [Fact]
    public void ParametersWithoutGradientsAreSkipped()
    {
        var a = Tensor.Ones(2).RequireGrad();
        var b = Tensor.Ones(2).RequireGrad();
        var opt = new Sgd([a, b], new SgdOptions(Lr: 0.5, WeightDecay: 1));
        a.Grad = Tensor.Ones(2);
        opt.Step();
        Assert.Equal([0f, 0f], a.Data); // 1 − 0.5·(1 + 1·1)
        Assert.Equal([1f, 1f], b.Data); // no gradient: not even decayed
        Assert.Null(opt.StateOf(b));
    }

    [Theory]
    [InlineData("adamw")]
    [InlineData("sgd")]
    public void LargeParametersUpdatedInParallelChunksMatchSmallOnes(string kind)
    {
        // 400 000 elements are split over worker threads; 8 × 50 000 run serially. Same values, same updates.
        const int n = 400_000, parts = 8;
        var big = Tensor.Randn(new Rng(1), [n]).RequireGrad();
        var small = Enumerable.Range(0, parts).Select(i => Tensor.FromArray(big.Data.AsSpan(i * (n / parts), n / parts), n / parts).RequireGrad()).ToArray();
        Optimizer Make(IEnumerable<Tensor> ps) => kind == "sgd"
            ? new Sgd(ps, new SgdOptions(Lr: 0.1, Momentum: 0.9, WeightDecay: 0.01, Nesterov: true))
            : new AdamW(ps, new AdamOptions(Lr: 1e-2, WeightDecay: 0.1));
        var optBig = Make([big]);
        var optSmall = Make(small);
        for (ulong step = 0; step < 3; step++)
        {
            big.Grad = Tensor.Randn(new Rng(10 + step), [n]);
            for (int i = 0; i < parts; i++) small[i].Grad = Tensor.FromArray(big.Grad.Data.AsSpan(i * (n / parts), n / parts), n / parts);
            optBig.Step();
            optSmall.Step();
        }
        Assert.Equal(big.Data, small.SelectMany(t => t.Data));
    }
}
