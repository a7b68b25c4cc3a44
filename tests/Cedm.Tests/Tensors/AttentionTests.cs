using Cedm.Tensors;
using Cedm.Tensors.Autograd;
using Cedm.Tensors.Kernels;
using Cedm.Tests.TestUtilities;

namespace Cedm.Tests.Tensors;

/// <summary>Spatial multi-head self-attention (spec §2.2 layout) and token-major scaled dot-product attention.</summary>
public class AttentionTests
{
    [Theory]
    [InlineData(1, 4, 3, 3, 1)] [InlineData(2, 8, 4, 4, 1)] [InlineData(2, 12, 3, 5, 2)] [InlineData(1, 16, 5, 2, 4)]
    [InlineData(3, 6, 1, 1, 3)] [InlineData(1, 32, 8, 8, 1)]
    public void SpatialAttentionMatchesDirectLoops(int b, int c, int h, int w, int heads)
    {
        var qkv = Tensor.Randn(new Rng(40), [b, 3 * c, h, w]);
        var y = Tensor.SpatialSelfAttention(qkv, heads);
        Assert.Equal(new[] { b, c, h, w }, y.ShapeArray());
        TensorAssert.Close(AttentionReference.Spatial(qkv.Data, b, c, h * w, heads), y.Data, 1e-5, 1e-4, "a");
    }

    [Fact]
    public void SpatialAttentionLayoutIsInterleavedQkv()
    {
        // With k = 0 every position attends uniformly, so the output is the spatial mean of v; v must be read from
        // channels 3c+2 (spec §2.2: reshape [B, C, 3, HW]), not from the last C channels.
        int c = 3, t = 4;
        var qkv = Tensor.Zeros(1, 3 * c, 2, 2);
        for (int ch = 0; ch < c; ch++)
            for (int i = 0; i < t; i++)
            {
                qkv.Data[(3 * ch + 0) * t + i] = 5f * (i + 1);    // q: irrelevant once k = 0
                qkv.Data[(3 * ch + 2) * t + i] = 10f * ch + i;    // v
            }
        var y = Tensor.SpatialSelfAttention(qkv, 1);
        for (int ch = 0; ch < c; ch++)
            for (int i = 0; i < t; i++)
                Assert.Equal(10f * ch + 1.5f, y.Data[ch * t + i], 4);
    }

    [Theory]
    [InlineData(1)] [InlineData(2)]
    public void SpatialAttentionGradCheck(int heads)
    {
        var qkv = Tensor.Randn(new Rng(41), [2, 12, 3, 2]).RequireGrad();
        var r = GradCheck.Check(t => Tensor.SpatialSelfAttention(t[0], heads), [qkv], maxPerInput: 144);
        Assert.True(r.Passed, r.ToString());
    }

    [Theory]
    [InlineData("spatial_attention_1head")] [InlineData("spatial_attention_2heads")]
    public void SpatialAttentionMatchesPyTorch(string name)
    {
        var f = FixtureFile.Load($"ops/{name}.bin");
        var qkv = f["qkv"].RequireGrad();
        var y = Tensor.SpatialSelfAttention(qkv, (int)f["heads"].Data[0]);
        TensorAssert.Close(f["y"].Data, y.Data, 1e-5, 1e-4, "y");
        (y * f["gy"]).Sum().Backward();
        TensorAssert.Close(f["gqkv"].Data, qkv.Grad!.Data, 2e-5, 1e-3, "gqkv");
    }

    [Fact]
    public void ScaledDotProductAttentionMatchesLoopsAndGradCheck()
    {
        var q = Tensor.Randn(new Rng(42), [2, 5, 6]).RequireGrad();
        var k = Tensor.Randn(new Rng(43), [2, 7, 6]).RequireGrad();
        var v = Tensor.Randn(new Rng(44), [2, 7, 4]).RequireGrad();
        var y = Tensor.ScaledDotProductAttention(q, k, v);
        Assert.Equal(new[] { 2, 5, 4 }, y.ShapeArray());
        TensorAssert.Close(AttentionReference.Token(q.Data, k.Data, v.Data, 2, 5, 7, 6, 4), y.Data, 1e-5, 1e-4, "y");
        var r = GradCheck.Check(t => Tensor.ScaledDotProductAttention(t[0], t[1], t[2]), [q, k, v]);
        Assert.True(r.Passed, r.ToString());
    }

    [Fact]
    public void ScaledDotProductAttentionMatchesPyTorch()
    {
        var f = FixtureFile.Load("ops/sdpa.bin");
        var q = f["q"].RequireGrad();
        var k = f["k"].RequireGrad();
        var v = f["v"].RequireGrad();
        var y = Tensor.ScaledDotProductAttention(q, k, v);
        TensorAssert.Close(f["y"].Data, y.Data, 1e-5, 1e-4, "y");
        (y * f["gy"]).Sum().Backward();
        TensorAssert.Close(f["gq"].Data, q.Grad!.Data, 2e-5, 1e-3, "gq");
        TensorAssert.Close(f["gk"].Data, k.Grad!.Data, 2e-5, 1e-3, "gk");
        TensorAssert.Close(f["gv"].Data, v.Grad!.Data, 2e-5, 1e-3, "gv");
    }

    [Fact]
    public void SlicesPerWorkerDoNotDependOnTheWorkerCountOrOnGradMode()
    {
        // 6 slices: per-worker with 2 and 4 threads (each slice on one thread, single-threaded GEMMs), one after
        // another with threaded GEMMs at 1 thread; no-grad (no kept weights) and grad forwards share the arithmetic.
        var qkv = Tensor.Randn(new Rng(45), [3, 48, 5, 5]);
        float[] Run(int threads, bool grad)
        {
            using var _ = EnginePolicy.Override(p => p with { Threads = threads });
            if (grad) return Tensor.SpatialSelfAttention(qkv.Detach().RequireGrad(), 2).Data;
            using var ng = GradMode.NoGrad();
            return Tensor.SpatialSelfAttention(qkv, 2).Data;
        }
        var two = Run(2, grad: false);
        Assert.Equal(two, Run(4, grad: false));
        Assert.Equal(two, Run(2, grad: true));
        TensorAssert.Close(Run(1, grad: false), two, 1e-5, 1e-4, "one thread vs per-worker slices");
        TensorAssert.Close(AttentionReference.Spatial(qkv.Data, 3, 16, 25, 2), two, 1e-5, 1e-4, "loops");
    }

    [Fact]
    public void AttentionValidatesShapes()
    {
        Assert.Throws<ArgumentException>(() => Tensor.SpatialSelfAttention(Tensor.Zeros(1, 8, 2, 2), 1));
        Assert.Throws<ArgumentException>(() => Tensor.SpatialSelfAttention(Tensor.Zeros(1, 12, 2, 2), 3));
        Assert.Throws<ArgumentException>(() => Tensor.ScaledDotProductAttention(Tensor.Zeros(1, 2, 3), Tensor.Zeros(1, 4, 2), Tensor.Zeros(1, 4, 3)));
    }
}
