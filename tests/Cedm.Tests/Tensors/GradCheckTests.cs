using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Tests.Tensors;

/// <summary>Every differentiable op's backward against central finite differences (GradCheck).</summary>
public class GradCheckTests
{
    private static Tensor Param(ulong seed, params int[] shape) => Tensor.Randn(new Rng(seed), shape).RequireGrad();

    /// <summary>Values kept away from 0 so kinks (relu, abs) and poles (log, div) are not straddled by the step.</summary>
    private static Tensor AwayFromZero(ulong seed, params int[] shape)
    {
        var t = Tensor.Randn(new Rng(seed), shape);
        for (int i = 0; i < t.Size; i++) t.Data[i] = (t.Data[i] >= 0 ? 0.3f : -0.3f) + t.Data[i];
        return t.RequireGrad();
    }

    private static Tensor Positive(ulong seed, params int[] shape)
    {
        var t = Tensor.Rand(new Rng(seed), shape, 0.5f, 2f);
        return t.RequireGrad();
    }

    private static void AssertGrad(Func<Tensor[], Tensor> f, params Tensor[] inputs)
    {
        var r = GradCheck.Check(f, inputs);
        Assert.True(r.Passed, r.ToString());
    }

    [Fact]
    public void ScaledSumMatchesAddThenScaleAndItsGradient()
    {
        var a = Param(61, 3, 4, 5, 7);
        var b = Param(62, 3, 4, 5, 7);
        float s = MathF.Sqrt(0.5f);
        Assert.Equal(((a + b) * s).Data, Tensor.ScaledSum(a, b, s).Data); // bit for bit
        AssertGrad(x => Tensor.ScaledSum(x[0], x[1], s), a, b);
        // The same tensor on both sides, and a non-leaf input (the shared gradient must not be corrupted).
        AssertGrad(x => Tensor.ScaledSum(x[0], x[0], s), a);
        AssertGrad(x => { var h = x[0] * 2f; return Tensor.ScaledSum(h, x[1], s) * h; }, a, b);
    }

    [Theory]
    [InlineData("add")] [InlineData("sub")] [InlineData("mul")] [InlineData("div")]
    public void BinaryOpsWithBroadcasts(string op)
    {
        Func<Tensor, Tensor, Tensor> f = op switch
        {
            "add" => (a, b) => a + b, "sub" => (a, b) => a - b, "mul" => (a, b) => a * b, _ => (a, b) => a / b,
        };
        int[][] others = [[2, 3, 4, 5], [1, 3, 1, 1], [2, 1, 1, 1], [1], [5], [3, 1, 5]];
        foreach (var shape in others)
        {
            var a = Param(1, 2, 3, 4, 5);
            var b = op == "div" ? Positive(2, shape) : Param(2, shape);
            AssertGrad(x => f(x[0], x[1]), a, b);
            // Swapped roles: the full-size tensor is now the divisor, so keep it away from 0 for div.
            AssertGrad(x => f(x[1], x[0]), op == "div" ? Positive(3, 2, 3, 4, 5) : a, b);
        }
    }

    [Fact]
    public void ScalarOps() => AssertGrad(x => (x[0] * 3f + 2f) / 4f - 1f, Param(1, 3, 4));

    [Theory]
    [InlineData("exp")] [InlineData("log")] [InlineData("sqrt")] [InlineData("square")] [InlineData("abs")]
    [InlineData("relu")] [InlineData("sigmoid")] [InlineData("tanh")] [InlineData("silu")] [InlineData("gelu")]
    [InlineData("softplus")] [InlineData("pow")] [InlineData("clamp")]
    public void UnaryOps(string op)
    {
        Func<Tensor, Tensor> f = op switch
        {
            "exp" => t => t.Exp(), "log" => t => t.Log(), "sqrt" => t => t.Sqrt(), "square" => t => t.Square(),
            "abs" => t => t.Abs(), "relu" => t => t.Relu(), "sigmoid" => t => t.Sigmoid(), "tanh" => t => t.Tanh(),
            "silu" => t => t.Silu(), "gelu" => t => t.Gelu(), "softplus" => t => t.Softplus(), "pow" => t => t.Pow(1.5f),
            _ => t => t.Clamp(-0.5f, 0.7f),
        };
        var input = op is "log" or "sqrt" or "pow" ? Positive(5, 4, 6) : AwayFromZero(5, 4, 6);
        if (op == "clamp") for (int i = 0; i < input.Size; i++) if (MathF.Abs(input.Data[i] + 0.5f) < 0.05f || MathF.Abs(input.Data[i] - 0.7f) < 0.05f) input.Data[i] += 0.2f;
        AssertGrad(x => f(x[0]), input);
    }

    [Fact]
    public void Reductions()
    {
        var x = Param(7, 2, 3, 4);
        AssertGrad(t => t[0].Sum(), x);
        AssertGrad(t => t[0].Mean(), x);
        for (int axis = 0; axis < 3; axis++)
        {
            int a = axis;
            AssertGrad(t => t[0].Sum(a), x);
            AssertGrad(t => t[0].Mean(a, keepDim: true), x);
        }
        AssertGrad(t => t[0].Sum([0, 2]), x);
        AssertGrad(t => t[0].Mean([1, 2], keepDim: true), x);
    }

    [Fact]
    public void ShapeOps()
    {
        var x = Param(8, 2, 3, 4);
        AssertGrad(t => t[0].Reshape(4, -1) * t[0].Reshape(4, 6), x);
        AssertGrad(t => t[0].Permute(2, 0, 1), x);
        AssertGrad(t => t[0].Transpose(0, 2), x);
        AssertGrad(t => t[0].Slice(1, 1, 2), x);
        AssertGrad(t => t[0].BroadcastTo(5, 2, 3, 4), x);
        AssertGrad(t => t[0].IndexSelect([1, 0, 1]), x);
        var y = Param(9, 2, 5, 4);
        AssertGrad(t => Tensor.Concat(1, t[0], t[1], t[0]), x, y);
    }

    [Fact]
    public void MatMulAllTransposesAndBatches()
    {
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                int[] aShape = ta ? [4, 3] : [3, 4], bShape = tb ? [5, 4] : [4, 5];
                bool ta1 = ta, tb1 = tb;
                AssertGrad(t => Tensor.MatMul(t[0], t[1], ta1, tb1), Param(10, aShape), Param(11, bShape));
                AssertGrad(t => Tensor.MatMul(t[0], t[1], ta1, tb1), Param(12, [2, .. aShape]), Param(13, [2, .. bShape]));
                AssertGrad(t => Tensor.MatMul(t[0], t[1], ta1, tb1), Param(14, [2, .. aShape]), Param(15, bShape));
                AssertGrad(t => Tensor.MatMul(t[0], t[1], ta1, tb1), Param(16, aShape), Param(17, [2, .. bShape]));
            }
    }

    [Fact]
    public void LinearWithAndWithoutBias()
    {
        AssertGrad(t => Tensor.Linear(t[0], t[1], t[2]), Param(20, 2, 3, 4), Param(21, 5, 4), Param(22, 5));
        AssertGrad(t => Tensor.Linear(t[0], t[1]), Param(23, 6, 4), Param(24, 5, 4));
    }

    [Fact]
    public void SoftmaxFamilyAlongEveryAxis()
    {
        var x = Param(30, 3, 4, 5);
        for (int axis = 0; axis < 3; axis++)
        {
            int a = axis;
            AssertGrad(t => t[0].Softmax(a), x);
            AssertGrad(t => t[0].LogSoftmax(a), x);
            AssertGrad(t => t[0].LogSumExp(a), x);
            AssertGrad(t => t[0].LogSumExp(a, keepDim: true), x);
        }
    }

    [Fact]
    public void LossesAndNormalisations()
    {
        AssertGrad(t => Tensor.MseLoss(t[0], t[1]), Param(40, 3, 4), Param(41, 3, 4));
        AssertGrad(t => Tensor.CrossEntropy(t[0], [1, 0, 3]), Param(42, 3, 4));
        var soft = Tensor.Rand(new Rng(43), [3, 4]).Softmax(-1);
        AssertGrad(t => Tensor.CrossEntropy(t[0], soft), Param(44, 3, 4));
        AssertGrad(t => t[0].L2Normalize(-1), Param(45, 3, 4));
        AssertGrad(t => t[0].L2Normalize(0), Param(46, 3, 4));
        AssertGrad(t => Tensor.GaussianKl(t[0], t[1], t[2], t[3]), Param(47, 2, 3), Param(48, 2, 3), Param(49, 2, 3), Param(50, 2, 3));
        AssertGrad(t => t[0].Dropout(0.3f, new Rng(7), training: true), Param(51, 4, 5));
    }
}
