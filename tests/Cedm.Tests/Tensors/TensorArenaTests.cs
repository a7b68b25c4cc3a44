using Cedm.Diffusion;
using Cedm.Diffusion.Networks;
using Cedm.Nn;
using Cedm.Tensors;

namespace Cedm.Tests.Tensors;

/// <summary>TensorArena recycling (what is reused, what escapes) and that a recycled training pass computes the same gradients.</summary>
public class TensorArenaTests
{
    // An odd size no other test allocates, so tests running in parallel never take each other's pooled arrays.
    private const int Big = TensorArena.MinFloats * 2 + 7;

    [Fact]
    public void ScopesRecycleUnkeptStorageOfTheSameSize()
    {
        float[] first, kept;
        using (var arena = TensorArena.Begin())
        {
            first = (Tensor.Ones(Big) * 2f).Data;
            kept = arena.Keep(Tensor.Ones(Big) * 3f).Data;
        }
        using (TensorArena.Begin())
        {
            var again = Tensor.Ones(Big) * 4f;
            Assert.Same(first, again.Data); // the released array came back
            var other = Tensor.Ones(Big) * 5f;
            Assert.NotSame(kept, other.Data); // the kept one did not
        }
        Assert.All(kept, v => Assert.Equal(3f, v));
    }

    [Fact]
    public void SmallTensorsAndTensorsOutsideAScopeAreNotPooled()
    {
        float[] small;
        using (TensorArena.Begin()) small = (Tensor.Ones(16) * 2f).Data;
        var outside1 = (Tensor.Ones(Big) * 2f).Data;
        using (TensorArena.Begin())
        {
            Assert.NotSame(small, (Tensor.Ones(16) * 2f).Data);
            Assert.NotSame(outside1, (Tensor.Ones(Big) * 2f).Data);
        }
    }

    [Fact]
    public void NestedScopesReleaseOnlyTheirOwnTensors()
    {
        using var outer = TensorArena.Begin();
        var a = Tensor.Ones(Big) * 2f;
        using (TensorArena.Begin())
        {
            var b = Tensor.Ones(Big) * 3f;
            Assert.NotSame(a.Data, b.Data);
        }
        // The inner scope released b's array; a (outer scope) is still live and untouched by the next allocation.
        var c = Tensor.Ones(Big) * 4f;
        Assert.NotSame(a.Data, c.Data);
        Assert.All(a.Data, v => Assert.Equal(2f, v));
    }

    [Fact]
    public void WhatANestedScopeKeepsIsRecycledWithTheEnclosingScope()
    {
        float[] keptInner;
        using (var outer = TensorArena.Begin())
        {
            using (var inner = TensorArena.Begin())
                keptInner = inner.Keep(Tensor.Ones(Big) * 2f).Data;
            Assert.All(keptInner, v => Assert.Equal(2f, v)); // alive after the inner scope
        }
        using (TensorArena.Begin())
            Assert.Same(keptInner, (Tensor.Ones(Big) * 3f).Data); // returned when the outer scope ended
    }

    [Fact]
    public void RecyclingScopesOnlyPassesWithoutAGraph()
    {
        float[] intermediate = [];
        Tensor Pass()
        {
            var t = Tensor.Ones(Big) * 2f;
            intermediate = t.Data;
            return t * 3f;
        }
        using (Cedm.Tensors.Autograd.GradMode.NoGrad())
        {
            var result = TensorArena.Recycling(Pass);
            Assert.All(result.Data, v => Assert.Equal(6f, v));
            using (TensorArena.Begin())
                Assert.Same(intermediate, (Tensor.Ones(Big) * 5f).Data); // the intermediate went back to the pool
            Assert.All(result.Data, v => Assert.Equal(6f, v));         // the result did not
        }
        // With a graph recording, nothing is scoped: the intermediate is not handed out again.
        TensorArena.Recycling(Pass);
        using (TensorArena.Begin())
            Assert.NotSame(intermediate, (Tensor.Ones(Big) * 5f).Data);
    }

    [Fact]
    public void RecycledTrainingPassGivesTheSameGradientsAsAPlainOne()
    {
        var rng = new Rng(4);
        var w = Tensor.Randn(rng, [8, 8, 3, 3], std: 0.2f).RequireGrad();
        var x = Tensor.Randn(rng, [4, 8, 64, 64]); // 131k floats per activation: pooled
        Tensor Loss() => Tensor.Conv2d(Tensor.Conv2d(x, w, null, 1, 1).Silu(), w, null, 1, 1).Square().Mean();
        var plain = Loss();
        plain.Backward();
        float[] gPlain = w.Grad!.Data.ToArray();
        for (int step = 0; step < 3; step++) // later passes run on recycled storage
        {
            w.ZeroGrad();
            double value = TrainingPass.Run(Loss, [w]);
            Assert.Equal(plain.Item(), value);
            Assert.Equal(gPlain, w.Grad!.Data);
        }
    }

    [Fact]
    public void BackwardHandsDeadGradientsBackWithinThePass()
    {
        // A chain of 12 ops on pooled sizes: without recycling the scope would hold its 12 forward outputs plus one
        // gradient per op; with it, each op's incoming gradient is dead once the op ran and is reused by the next.
        var x = Tensor.Randn(new Rng(5), [Big]).RequireGrad();
        using var arena = TensorArena.Begin();
        var y = x;
        for (int i = 0; i < 12; i++) y = (y * 1.01f).Silu();
        int forward = arena.HeldCount;
        y.Sum().Backward();
        Assert.True(arena.HeldCount <= forward + 3, $"held {arena.HeldCount} arrays after backward, {forward} after forward");
        Assert.NotNull(x.Grad);
    }

    [Fact]
    public void BackwardRecyclingKeepsLeafRetainedAndBorrowedGradientsIntact()
    {
        // Borrowed gradients (add passes one to both inputs, reshape passes a view), a retained non-leaf gradient and
        // a leaf used twice: the values after a recycled pass, run on a pool full of stale arrays, equal a plain pass.
        var rng = new Rng(6);
        var w = Tensor.Randn(rng, [Big]).RequireGrad();
        var v = Tensor.Randn(rng, [Big]).RequireGrad();
        (double, float[], float[], float[]) Pass(bool arena)
        {
            w.ZeroGrad();
            v.ZeroGrad();
            using var scope = arena ? TensorArena.Begin() : null;
            var a = (w * v).Silu();
            var mid = (a + a * 2f).RetainGrad();
            var b = mid.Reshape(Big / 1, 1).Reshape(Big) + w.Square();
            var loss = (b.Silu() * v).Sum();
            loss.Backward();
            return (loss.Item(), w.Grad!.Data.ToArray(), v.Grad!.Data.ToArray(), mid.Grad!.Data.ToArray());
        }
        var plain = Pass(arena: false);
        for (int step = 0; step < 3; step++)
        {
            var recycled = Pass(arena: true);
            Assert.Equal(plain.Item1, recycled.Item1);
            Assert.Equal(plain.Item2, recycled.Item2);
            Assert.Equal(plain.Item3, recycled.Item3);
            Assert.Equal(plain.Item4, recycled.Item4);
        }
    }

    [Fact]
    public void RecycledSongUNetStepMatchesTheSameStepWithoutTheArena()
    {
        // Every op of the diffusion network (conv, GroupNorm+SiLU, attention, embeddings, dropout, resampling) through
        // a backward pass whose dead gradients are reused: parameter gradients equal a pass on fresh GC arrays.
        var options = SongUNetOptions.Tiny(labelDim: 3) with { Resolution = 16, ModelChannels = 16, AttnResolutions = [8] };
        var net = new EdmPrecond(options, new Rng(7));
        net.SetTraining(true);
        var images = Tensor.Rand(new Rng(8), [4, 1, 16, 16], -1f, 1f);
        var labels = new Tensor([1f, 0f, 0f, 0f, 1f, 0f, 0f, 0f, 1f, 1f, 0f, 0f], 4, 3);
        var loss = new EdmLoss();
        float[][] Step()
        {
            foreach (var p in net.Parameters()) p.ZeroGrad();
            TrainingPass.Run(() => loss.Compute(net, images, new Conditioning(labels), new Rng(9)), net.Parameters());
            return net.Parameters().Select(p => p.Grad!.Data.ToArray()).ToArray();
        }
        float[][] plain;
        using (EnginePolicy.Override(p => p with { Arena = false })) plain = Step();
        for (int step = 0; step < 2; step++)
        {
            var recycled = Step();
            for (int i = 0; i < plain.Length; i++) Assert.Equal(plain[i], recycled[i]);
        }
    }
}
