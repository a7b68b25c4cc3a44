using Cedm.Nn;
using Cedm.Tensors;

namespace Cedm.Tests.Nn;

public class ModuleTests
{
    [Fact]
    public void ParametersHaveStableDottedPathsInRegistrationOrder()
    {
        var net = new ToyNet(new Rng(1));
        Assert.Equal(["enc.0.proj.weight", "enc.0.proj.bias", "enc.2.proj.weight", "enc.2.proj.bias", "head.weight"],
            net.NamedParameters().Select(p => p.Path));
        Assert.Equal(["enc.0.scale", "enc.2.scale"], net.NamedBuffers().Select(b => b.Path));
        Assert.Equal(2 * (16 + 4) + 12, net.ParameterCount());
        Assert.All(net.Parameters(), p => Assert.True(p.RequiresGrad));
        Assert.All(net.NamedBuffers(), b => Assert.False(b.Tensor.RequiresGrad));
        Assert.Equal(["", "enc", "enc.0", "enc.0.proj", "enc.0.drop", "enc.1", "enc.2", "enc.2.proj", "enc.2.drop", "head"],
            net.NamedModules().Select(m => m.Path));
    }

    [Fact]
    public void SameSeedGivesSameParameters()
    {
        var a = new ToyNet(new Rng(7)).StateDict();
        var b = new ToyNet(new Rng(7)).StateDict();
        foreach (var (k, t) in a) Assert.Equal(t.Data, b[k].Data);
    }

    [Fact]
    public void TrainAndEvalPropagateToDescendantsAndNewChildren()
    {
        var net = new ToyNet(new Rng(1));
        Assert.All(net.NamedModules(), m => Assert.True(m.Module.IsTraining));
        net.Eval();
        Assert.All(net.NamedModules(), m => Assert.False(m.Module.IsTraining));
        var x = Tensor.Randn(new Rng(2), [5, 4]);
        Assert.Equal(net.Forward(x).Data, net.Forward(x).Data); // dropout off: deterministic
        net.Train();
        Assert.All(net.NamedModules(), m => Assert.True(m.Module.IsTraining));
        Assert.NotEqual(net.Forward(x).Data, net.Forward(x).Data); // dropout on: masks differ
        var seq = new Sequential();
        seq.Eval();
        var child = new Dropout(0.1f, new Rng(3));
        seq.Add(child);
        Assert.False(child.IsTraining);
    }

    [Fact]
    public void ZeroGradClearsEveryGradient()
    {
        var net = new ToyNet(new Rng(1)).Eval();
        net.Forward(Tensor.Randn(new Rng(2), [5, 4])).Sum().Backward();
        Assert.All(net.Parameters(), p => Assert.NotNull(p.Grad));
        net.ZeroGrad();
        Assert.All(net.Parameters(), p => Assert.Null(p.Grad));
    }

    [Fact]
    public void StateDictRoundTripCopiesIntoExistingTensors()
    {
        var src = new ToyNet(new Rng(1));
        src.Enc.Layers[0].As<ToyBlock>().Scale.Data[0] = 5f;
        var dst = new ToyNet(new Rng(2));
        var before = dst.Parameters().ToArray();
        var state = src.StateDict();
        Assert.Equal(7, state.Count);
        var result = dst.LoadStateDict(state);
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        Assert.Equal(before, dst.Parameters(), ReferenceEqualityComparer.Instance); // same tensor objects
        foreach (var (k, t) in dst.StateDict())
        {
            Assert.Equal(state[k].Data, t.Data);
            Assert.NotSame(state[k].Data, t.Data);
        }
        Assert.Equal(5f, dst.Enc.Layers[0].As<ToyBlock>().Scale.Data[0]);
    }

    [Fact]
    public void StrictLoadReportsMissingUnexpectedAndShapeMismatchesTogether()
    {
        var net = new ToyNet(new Rng(1));
        var state = new ToyNet(new Rng(2)).StateDict();
        state.Remove("head.weight");
        state.Add("head.bias", Tensor.Zeros(3));
        state["enc.0.proj.weight"] = Tensor.Zeros(4, 5);
        var snapshot = net.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
        var e = Assert.Throws<StateDictException>(() => net.LoadStateDict(state));
        Assert.Contains("'enc.0.proj.weight': checkpoint shape [4, 5], module shape [4, 4]", e.Message);
        Assert.Contains("missing keys: head.weight", e.Message);
        Assert.Contains("unexpected keys: head.bias", e.Message);
        Assert.Equal(["head.weight"], e.MissingKeys);
        Assert.Equal(["head.bias"], e.UnexpectedKeys);
        foreach (var (k, t) in net.StateDict()) Assert.Equal(snapshot[k], t.Data); // nothing written
    }

    [Fact]
    public void NonStrictLoadSkipsAndReportsKeysButStillRejectsShapes()
    {
        var net = new ToyNet(new Rng(1));
        var other = new ToyNet(new Rng(2));
        var state = other.StateDict();
        state.Remove("head.weight");
        state.Add("extra", Tensor.Zeros(1));
        var oldHead = net.Head.Weight.ToArray();
        var r = net.LoadStateDict(state, strict: false);
        Assert.Equal(["head.weight"], r.MissingKeys);
        Assert.Equal(["extra"], r.UnexpectedKeys);
        Assert.Equal(oldHead, net.Head.Weight.Data);
        Assert.Equal(other.Enc.Layers[0].As<ToyBlock>().Proj.Weight.Data, net.Enc.Layers[0].As<ToyBlock>().Proj.Weight.Data);
        state["enc.0.proj.bias"] = Tensor.Zeros(3);
        Assert.Throws<StateDictException>(() => net.LoadStateDict(state, strict: false));
    }

    [Fact]
    public void SafetensorsCheckpointRoundTripsWithMetadata()
    {
        var path = Path.Combine(Path.GetTempPath(), $"cedm-nn-{Guid.NewGuid():N}.safetensors");
        try
        {
            var src = new ToyNet(new Rng(1));
            src.SaveSafetensors(path, new Dictionary<string, string> { ["cur_nimg"] = "1024" });
            var dst = new ToyNet(new Rng(2));
            var meta = dst.LoadSafetensors(path);
            Assert.Equal("1024", meta["cur_nimg"]);
            foreach (var (k, t) in src.StateDict()) Assert.Equal(t.Data, dst.StateDict()[k].Data);
            var e = Assert.Throws<StateDictException>(() => new ToyNet(new Rng(3), outputs: 2).LoadSafetensors(path));
            Assert.Contains(Path.GetFileName(path), e.Message);
            Assert.Contains("head.weight", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void RegistrationRejectsBadAndDuplicateNames()
    {
        Assert.Throws<ArgumentException>(() => new BadNames("a.b"));
        Assert.Throws<ArgumentException>(() => new BadNames(""));
        Assert.Throws<ArgumentException>(() => new BadNames("w", duplicate: true));
    }

    [Fact]
    public void SharedTensorsAreListedOnce()
    {
        var shared = new Shared();
        Assert.Single(shared.Parameters());
        Assert.Single(shared.StateDict());
        Assert.Equal(16, shared.ParameterCount());
    }

    private sealed class BadNames : Module
    {
        public BadNames(string name, bool duplicate = false)
        {
            RegisterParameter(name, Tensor.Zeros(1));
            if (duplicate) RegisterBuffer(name, Tensor.Zeros(1));
        }
    }

    private sealed class Shared : Module
    {
        public Shared()
        {
            var a = RegisterModule("a", new Linear(4, 4, new Rng(1), bias: false));
            RegisterModule("b", new Tied(a.Weight));
        }

        private sealed class Tied : Module
        {
            public Tied(Tensor w) => RegisterParameter("weight", w);
        }
    }
}

internal static class LayerCasts
{
    public static T As<T>(this Layer l) where T : Layer => (T)l;
}
