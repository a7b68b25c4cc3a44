using Cedm.Tensors;
using Cedm.Tensors.Autograd;
using Cedm.Tensors.Kernels;
using Cedm.Tests.TestUtilities;

namespace Cedm.Tests.Tensors;

/// <summary>GroupNorm (± fused SiLU), LayerNorm and the fused bias + activation against their references,
/// finite differences and PyTorch fixtures.</summary>
public class NormalizationTests
{
    private static Tensor Randn(ulong seed, float scale, float shift, params int[] shape)
    {
        var t = Tensor.Randn(new Rng(seed), shape, shift, scale);
        return t;
    }

    public static TheoryData<int[], int, bool, bool> GroupNormShapes()
    {
        var data = new TheoryData<int[], int, bool, bool>();
        int[][] shapes = [[1, 4, 1, 1], [2, 6, 3, 5], [3, 8, 7, 7], [1, 12], [2, 16, 9], [2, 4, 33, 65], [1, 64, 8, 8]];
        foreach (var s in shapes)
        {
            int c = s[1];
            foreach (int groups in new[] { 1, 2, c }.Distinct())
                foreach (bool silu in new[] { false, true })
                    data.Add(s, groups, groups != 1, silu);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(GroupNormShapes))]
    public void GroupNormMatchesReference(int[] shape, int groups, bool affine, bool silu)
    {
        int n = shape[0], c = shape[1], s = Shapes.Size(shape) / (n * c);
        var x = Randn(1, 1.5f, 0.7f, shape).RequireGrad();
        var gamma = affine ? Randn(2, 0.5f, 1f, c).RequireGrad() : null;
        var beta = affine ? Randn(3, 0.5f, 0f, c).RequireGrad() : null;
        const float eps = 1e-6f;
        var y = Tensor.GroupNorm(x, groups, gamma, beta, eps, silu);
        var expected = GroupNormReference.Forward(x.Data, n, c, s, groups, gamma?.Data, beta?.Data, eps, silu);
        ArrayAssert.Close(expected, y.Data, 1e-5, 1e-4, "y");

        var gy = Randn(4, 1f, 0f, shape);
        (y * gy).Sum().Backward();
        var (dx, dGamma, dBeta) = GroupNormReference.Backward(x.Data, gy.Data, n, c, s, groups, gamma?.Data, beta?.Data, eps, silu);
        // Groups of one or two elements have dx ≡ 0 analytically, computed as the difference of O(r·|g·γ|) float
        // terms with r up to 1/sqrt(eps) = 1000: judge those against that magnitude.
        double gScale = gy.Data.Max(Math.Abs) * (gamma?.Data.Max(Math.Abs) ?? 1f);
        double scale = dx.Max(Math.Abs) + (c / groups * s <= 2 ? 1e-3 / Math.Sqrt(eps) * gScale : 1e-3);
        ArrayAssert.Close(dx, x.Grad!.Data, 2e-5 * scale, 1e-3, "dx");
        if (affine)
        {
            ArrayAssert.Close(dGamma, gamma!.Grad!.Data, 1e-4 * (dGamma.Max(Math.Abs) + 1), 1e-4, "dgamma");
            ArrayAssert.Close(dBeta, beta!.Grad!.Data, 1e-4 * (dBeta.Max(Math.Abs) + 1), 1e-4, "dbeta");
        }
    }

    [Theory]
    [InlineData(false, false)] [InlineData(true, false)] [InlineData(false, true)] [InlineData(true, true)]
    public void GroupNormGradCheck(bool silu, bool noSpatial)
    {
        int[] shape = noSpatial ? [3, 8] : [2, 6, 3, 2];
        int groups = noSpatial ? 2 : 3;
        var x = Randn(5, 1f, 0.3f, shape).RequireGrad();
        var gamma = Randn(6, 0.5f, 1f, shape[1]).RequireGrad();
        var beta = Randn(7, 0.5f, 0f, shape[1]).RequireGrad();
        var r = GradCheck.Check(t => Tensor.GroupNorm(t[0], groups, t[1], t[2], 1e-6f, silu), [x, gamma, beta], step: 5e-3f);
        Assert.True(r.Passed, r.ToString());
        // Without affine parameters (the x path alone).
        var r2 = GradCheck.Check(t => Tensor.GroupNorm(t[0], groups, null, null, 1e-6f, silu), [x], step: 5e-3f);
        Assert.True(r2.Passed, r2.ToString());
    }

    [Fact]
    public void GroupNormOnlyAffineNeedsGrad()
    {
        var x = Randn(8, 1f, 0f, 2, 4, 3, 3);
        var gamma = Randn(9, 0.5f, 1f, 4).RequireGrad();
        var beta = Randn(10, 0.5f, 0f, 4).RequireGrad();
        var r = GradCheck.Check(t => Tensor.GroupNorm(x, 2, t[0], t[1], 1e-6f, silu: true), [gamma, beta], step: 5e-3f);
        Assert.True(r.Passed, r.ToString());
        Assert.Null(x.Grad);
    }

    [Theory]
    [InlineData(false)] [InlineData(true)]
    public void GroupNormOfConstantInputIsBetaWithoutNaN(bool silu)
    {
        var x = Tensor.Full(3.25f, 2, 8, 4, 4).RequireGrad();
        var gamma = Randn(11, 0.5f, 1f, 8).RequireGrad();
        var beta = Randn(12, 0.5f, 0f, 8).RequireGrad();
        var y = Tensor.GroupNorm(x, 4, gamma, beta, 1e-6f, silu);
        Assert.True(y.AllFinite());
        for (int i = 0; i < y.Size; i++)
        {
            float b = beta.Data[i / 16 % 8];
            Assert.Equal(silu ? b / (1f + MathF.Exp(-b)) : b, y.Data[i], 5);
        }
        (y * Randn(13, 1f, 0f, 2, 8, 4, 4)).Sum().Backward();
        Assert.True(x.Grad!.AllFinite() && gamma.Grad!.AllFinite() && beta.Grad!.AllFinite());
    }

    [Fact]
    public void GroupNormIsPreciseForLargeMeans()
    {
        // |μ| ≫ σ: a one-pass E[x²] − E[x]² in float would lose every digit here.
        var x = Randn(14, 1e-2f, 1000f, 2, 4, 8, 8);
        var y = Tensor.GroupNorm(x, 2, null, null, 0f);
        var expected = GroupNormReference.Forward(x.Data, 2, 4, 64, 2, null, null, 0f, false);
        ArrayAssert.Close(expected, y.Data, 2e-3, 1e-3, "y");
    }

    [Fact]
    public void GroupNormValidatesArguments()
    {
        var x = Tensor.Zeros(2, 6, 3, 3);
        Assert.Contains("groups", Assert.Throws<ArgumentException>(() => Tensor.GroupNorm(x, 4, null, null)).Message);
        Assert.Contains("[6]", Assert.Throws<ArgumentException>(() => Tensor.GroupNorm(x, 3, Tensor.Ones(5), null)).Message);
        Assert.Throws<ArgumentException>(() => Tensor.GroupNorm(Tensor.Zeros(6), 3, null, null));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.GroupNorm(x, 3, null, null, -1f));
    }

    [Theory]
    [InlineData("group_norm_affine")] [InlineData("group_norm_plain")]
    [InlineData("group_norm_silu")] [InlineData("group_norm_silu_nospatial")]
    public void GroupNormMatchesPyTorch(string name)
    {
        var f = FixtureFile.Load($"ops/{name}.bin");
        var x = f["x"].RequireGrad();
        var gamma = f.Contains("gamma") ? f["gamma"].RequireGrad() : null;
        var beta = f.Contains("beta") ? f["beta"].RequireGrad() : null;
        int groups = (int)f["groups"].Data[0];
        float eps = f["eps"].Data[0];
        var y = Tensor.GroupNorm(x, groups, gamma, beta, eps, silu: name.Contains("silu"));
        ArrayAssert.Close(f["y"].Data, y.Data, 1e-5, 1e-4, "y");
        (y * f["gy"]).Sum().Backward();
        ArrayAssert.Close(f["gx"].Data, x.Grad!.Data, 2e-5, 1e-3, "gx");
        if (gamma != null) ArrayAssert.Close(f["ggamma"].Data, gamma.Grad!.Data, 1e-4, 1e-4, "ggamma");
        if (beta != null) ArrayAssert.Close(f["gbeta"].Data, beta.Grad!.Data, 1e-4, 1e-4, "gbeta");
    }

    // ---- LayerNorm ------------------------------------------------------------------------------

    [Theory]
    [InlineData(new[] { 1, 1 }, true)] [InlineData(new[] { 3, 7 }, true)] [InlineData(new[] { 2, 5, 33 }, false)]
    [InlineData(new[] { 4, 384 }, true)] [InlineData(new[] { 17 }, true)] [InlineData(new[] { 300, 100 }, true)]
    public void LayerNormMatchesReference(int[] shape, bool affine)
    {
        int d = shape[^1], rows = Shapes.Size(shape) / d;
        var x = Randn(20, 1.3f, -0.4f, shape).RequireGrad();
        var gamma = affine ? Randn(21, 0.5f, 1f, d).RequireGrad() : null;
        var beta = affine ? Randn(22, 0.5f, 0f, d).RequireGrad() : null;
        var y = Tensor.LayerNorm(x, gamma, beta);
        ArrayAssert.Close(LayerNormReference.Forward(x.Data, rows, d, gamma?.Data, beta?.Data, 1e-5f), y.Data, 1e-5, 1e-4, "y");
        var gy = Randn(23, 1f, 0f, shape);
        (y * gy).Sum().Backward();
        var (dx, dGamma, dBeta) = LayerNormReference.Backward(x.Data, gy.Data, rows, d, gamma?.Data, 1e-5f);
        ArrayAssert.Close(dx, x.Grad!.Data, 2e-5 * (dx.Max(Math.Abs) + 1e-3), 1e-3, "dx");
        if (affine)
        {
            ArrayAssert.Close(dGamma, gamma!.Grad!.Data, 1e-4 * (dGamma.Max(Math.Abs) + 1), 1e-4, "dgamma");
            ArrayAssert.Close(dBeta, beta!.Grad!.Data, 1e-4 * (dBeta.Max(Math.Abs) + 1), 1e-4, "dbeta");
        }
    }

    [Fact]
    public void LayerNormGradCheck()
    {
        var x = Randn(24, 1f, 0.2f, 3, 2, 6).RequireGrad();
        var gamma = Randn(25, 0.5f, 1f, 6).RequireGrad();
        var beta = Randn(26, 0.5f, 0f, 6).RequireGrad();
        var r = GradCheck.Check(t => Tensor.LayerNorm(t[0], t[1], t[2]), [x, gamma, beta], step: 5e-3f);
        Assert.True(r.Passed, r.ToString());
        var r2 = GradCheck.Check(t => Tensor.LayerNorm(t[0], null, null), [x], step: 5e-3f);
        Assert.True(r2.Passed, r2.ToString());
    }

    [Fact]
    public void LayerNormOfConstantRowsIsFinite()
    {
        var x = Tensor.Full(-2f, 3, 8).RequireGrad();
        var y = Tensor.LayerNorm(x, null, Tensor.Ones(8), 1e-6f);
        Assert.All(y.Data, v => Assert.Equal(1f, v));
        y.Sum().Backward();
        Assert.True(x.Grad!.AllFinite());
    }

    [Theory]
    [InlineData("layer_norm_affine")] [InlineData("layer_norm_plain")]
    public void LayerNormMatchesPyTorch(string name)
    {
        var f = FixtureFile.Load($"ops/{name}.bin");
        var x = f["x"].RequireGrad();
        var gamma = f.Contains("gamma") ? f["gamma"].RequireGrad() : null;
        var beta = f.Contains("beta") ? f["beta"].RequireGrad() : null;
        var y = Tensor.LayerNorm(x, gamma, beta, f["eps"].Data[0]);
        ArrayAssert.Close(f["y"].Data, y.Data, 1e-5, 1e-4, "y");
        (y * f["gy"]).Sum().Backward();
        ArrayAssert.Close(f["gx"].Data, x.Grad!.Data, 2e-5, 1e-3, "gx");
        if (gamma != null) ArrayAssert.Close(f["ggamma"].Data, gamma.Grad!.Data, 1e-4, 1e-4, "ggamma");
        if (beta != null) ArrayAssert.Close(f["gbeta"].Data, beta.Grad!.Data, 1e-4, 1e-4, "gbeta");
    }

    // ---- fused bias + activation -----------------------------------------------------------------

    private static Tensor Composed(Tensor x, Tensor bias, Activation act)
    {
        var shape = Enumerable.Repeat(1, x.Rank).ToArray();
        shape[1] = bias.Size;
        var h = x + bias.Reshape(shape);
        return act switch { Activation.Relu => h.Relu(), Activation.Silu => h.Silu(), Activation.Gelu => h.Gelu(), _ => h };
    }

    [Theory]
    [InlineData(Activation.None)] [InlineData(Activation.Relu)] [InlineData(Activation.Silu)] [InlineData(Activation.Gelu)]
    public void AddBiasActivationMatchesComposition(Activation act)
    {
        int[][] shapes = [[2, 3, 4, 5], [3, 7], [1, 5, 3000], [2, 4, 1, 1]];
        foreach (var shape in shapes)
        {
            var x = Randn(30, 1f, 0f, shape).RequireGrad();
            var b = Randn(31, 0.5f, 0f, shape[1]).RequireGrad();
            var gy = Randn(32, 1f, 0f, shape);
            var y = Tensor.AddBiasActivation(x, b, act);
            (y * gy).Sum().Backward();
            var x2 = x.Detach().RequireGrad();
            var b2 = b.Detach().RequireGrad();
            var y2 = Composed(x2, b2, act);
            (y2 * gy).Sum().Backward();
            ArrayAssert.Close(y2.Data, y.Data, 1e-6, 1e-5, $"y {act}");
            ArrayAssert.Close(x2.Grad!.Data, x.Grad!.Data, 1e-6, 1e-5, $"dx {act}");
            ArrayAssert.Close(b2.Grad!.Data, b.Grad!.Data, 1e-4, 1e-4, $"db {act}");
        }
    }

    [Theory]
    [InlineData(Activation.None)] [InlineData(Activation.Silu)] [InlineData(Activation.Gelu)]
    public void AddBiasActivationGradCheck(Activation act)
    {
        var x = Randn(33, 1f, 0f, 2, 3, 2, 2).RequireGrad();
        var b = Randn(34, 0.5f, 0f, 3).RequireGrad();
        var r = GradCheck.Check(t => Tensor.AddBiasActivation(t[0], t[1], act), [x, b]);
        Assert.True(r.Passed, r.ToString());
        var xf = Randn(35, 1f, 0f, 4, 5).RequireGrad();
        var bf = Randn(36, 0.5f, 0f, 5).RequireGrad();
        var r2 = GradCheck.Check(t => Tensor.AddBiasActivation(t[0], t[1], act), [xf, bf]);
        Assert.True(r2.Passed, r2.ToString());
    }

    [Fact]
    public void AddBiasActivationValidatesBias()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tensor.AddBiasActivation(Tensor.Zeros(2, 3, 4), Tensor.Zeros(4), Activation.Silu));
        Assert.Contains("[3]", ex.Message);
    }
}
