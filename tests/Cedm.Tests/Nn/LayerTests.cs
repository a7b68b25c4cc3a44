using Cedm.Nn;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Tests.Nn;

public class LayerTests
{
    [Fact]
    public void LinearComputesXWtPlusBAndValidatesWidth()
    {
        var lin = new Linear(3, 2, new Rng(1));
        var x = Tensor.Randn(new Rng(2), [4, 3]);
        var y = lin.Forward(x);
        Assert.Equal([4, 2], y.ShapeArray());
        for (int n = 0; n < 4; n++)
            for (int o = 0; o < 2; o++)
            {
                float e = lin.Bias!.Data[o];
                for (int i = 0; i < 3; i++) e += x[n, i] * lin.Weight[o, i];
                Assert.Equal(e, y[n, o], 1e-5f);
            }
        var ex = Assert.Throws<ArgumentException>(() => lin.Forward(Tensor.Zeros(4, 5)));
        Assert.Contains("[4, 5]", ex.Message);
        Assert.Null(new Linear(3, 2, new Rng(1), bias: false).Bias);
    }

    [Fact]
    public void OneHotAndEmbeddingMatchEdmMapLabel()
    {
        var oh = OneHot.FromIds([2, 0, 1], 3);
        Assert.Equal([0, 0, 1, 1, 0, 0, 0, 1, 0], oh.Data.Select(v => (int)v));
        Assert.Throws<ArgumentOutOfRangeException>(() => OneHot.FromIds([3], 3));
        // map_label(onehot·√K): row k of the result is √K·W[:, k] + b.
        var emb = new EmbeddingByOneHot(3, 5, new Rng(4), init: WeightInit.Song, inputScale: MathF.Sqrt(3));
        var y = emb.Forward([2, 0]);
        for (int d = 0; d < 5; d++)
        {
            Assert.Equal(MathF.Sqrt(3) * emb.Map.Weight[d, 2], y[0, d], 1e-6f);
            Assert.Equal(MathF.Sqrt(3) * emb.Map.Weight[d, 0], y[1, d], 1e-6f);
        }
        Assert.Equal(["map.weight", "map.bias"], emb.NamedParameters().Select(p => p.Path));
        Assert.All(emb.Map.Bias!.Data, v => Assert.Equal(0f, v));
        Assert.All(emb.Forward(Tensor.Zeros(1, 3)).Data, v => Assert.Equal(0f, v)); // unconditional rows embed to the bias
    }

    [Fact]
    public void DropoutIsActiveOnlyInTraining()
    {
        var d = new Dropout(0.5f, new Rng(1));
        var x = Tensor.Ones(1000);
        var y = d.Forward(x);
        int zeros = y.Data.Count(v => v == 0f);
        Assert.InRange(zeros, 420, 580);
        Assert.All(y.Data, v => Assert.True(v == 0f || v == 2f));
        d.Eval();
        Assert.Same(x, d.Forward(x));
    }

    [Fact]
    public void WeightNormLinearRowsHaveNormG()
    {
        var wn = new WeightNormLinear(8, 5, new Rng(3));
        Assert.Equal(["weight_g", "weight_v"], wn.NamedParameters().Select(p => p.Path));
        Assert.Equal([5, 1], wn.G.ShapeArray());
        Assert.All(wn.G.Data, v => Assert.Equal(1f, v));
        float bound = 1f / MathF.Sqrt(8);
        Assert.True(wn.V.Max() <= bound && wn.V.Min() >= -bound);
        wn.G.Data[2] = 3f;
        var w = wn.EffectiveWeight();
        for (int k = 0; k < 5; k++)
        {
            double norm = Math.Sqrt(Enumerable.Range(0, 8).Sum(i => (double)w[k, i] * w[k, i]));
            Assert.Equal(k == 2 ? 3.0 : 1.0, norm, 5);
        }
        // Scaling v leaves the layer unchanged (only its direction matters).
        var x = Tensor.Randn(new Rng(4), [3, 8]);
        var before = wn.Forward(x).ToArray();
        for (int i = 0; i < wn.V.Size; i++) wn.V.Data[i] *= 7f;
        var after = wn.Forward(x).Data;
        for (int i = 0; i < before.Length; i++) Assert.Equal(before[i], after[i], 1e-5f);
    }

    [Fact]
    public void WeightNormLinearGradientsPassGradCheck()
    {
        var wn = new WeightNormLinear(6, 4, new Rng(5));
        for (int k = 0; k < 4; k++) wn.G.Data[k] = 0.5f + k;
        var x = Tensor.Randn(new Rng(6), [3, 6]).RequireGrad();
        var r = GradCheck.Check(inputs => wn.Forward(inputs[0]), [x, wn.G, wn.V]);
        Assert.True(r.Passed, r.ToString());
    }

    [Fact]
    public void SequentialChainsAndNamesChildrenByIndex()
    {
        var rng = new Rng(1);
        var seq = new Sequential(new Linear(2, 3, rng), new GELU(), new Linear(3, 1, rng), new ReLU(), new Identity());
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias"], seq.NamedParameters().Select(p => p.Path));
        var x = Tensor.Randn(new Rng(2), [5, 2]);
        var l = seq.Layers;
        var expected = ((Linear)l[2]).Forward(((Linear)l[0]).Forward(x).Gelu()).Relu();
        Assert.Equal(expected.Data, seq.Forward(x).Data);
    }
}
