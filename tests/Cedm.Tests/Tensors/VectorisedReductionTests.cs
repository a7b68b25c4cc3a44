using Cedm.Tensors;
using Cedm.Tensors.Kernels;

namespace Cedm.Tests.Tensors;

/// <summary>
/// The vectorised GELU against the double-precision erf reference, and the last-axis (contiguous row) paths of
/// softmax, log-softmax and log-sum-exp against the strided path of the same op along a leading axis.
/// </summary>
public class VectorisedReductionTests
{
    [Fact]
    public void GeluAndItsDerivativeMatchTheDoubleReference()
    {
        // −12 … 12 in steps of 1/128 (3 073 values: every lane position, several 1 024-element chunks, a scalar tail).
        var x = Enumerable.Range(-1536, 3073).Select(i => i / 128f).ToArray();
        var y = new float[x.Length];
        Activations.GeluForward(x, y);
        var g = Enumerable.Range(0, x.Length).Select(i => 0.5f + (i % 7) * 0.25f).ToArray();
        var gx = new float[x.Length];
        Activations.GeluBackward(x, g, gx);
        for (int i = 0; i < x.Length; i++)
        {
            double cdf = SpecialFunctions.NormalCdf(x[i]), pdf = SpecialFunctions.NormalPdf(x[i]);
            double tol = 4e-7 * Math.Max(1, Math.Abs(x[i]));
            Assert.True(Math.Abs(y[i] - x[i] * cdf) <= tol, $"gelu({x[i]}) = {y[i]}, expected {x[i] * cdf}");
            Assert.True(Math.Abs(gx[i] - g[i] * (cdf + x[i] * pdf)) <= tol * g[i], $"gelu'({x[i]}) = {gx[i] / g[i]}, expected {cdf + x[i] * pdf}");
        }
        Assert.Equal(0f, y[1536]);
        // In place (the fused bias + activation kernel runs it so).
        var z = (float[])x.Clone();
        Activations.GeluForward(z, z);
        Assert.Equal(y, z);
    }

    public static TheoryData<string> Ops => new() { "softmax", "log_softmax", "logsumexp" };

    [Theory]
    [MemberData(nameof(Ops))]
    public void LastAxisRowsMatchTheStridedPath(string op)
    {
        const int rows = 37, n = 100;
        var rng = new Rng(5);
        var data = Tensor.Randn(rng, [rows, n], 0f, 3f).ToArray();
        for (int j = 0; j < n; j++) data[3 * n + j] += 40f;                 // a row far from zero
        var upstream = Tensor.Randn(new Rng(6), op == "logsumexp" ? [rows] : [rows, n]);

        Tensor Apply(Tensor t, int axis) => op switch
        {
            "softmax" => t.Softmax(axis),
            "log_softmax" => t.LogSoftmax(axis),
            _ => t.LogSumExp(axis),
        };
        var rowsLast = new Tensor(data, rows, n).RequireGrad();
        var yLast = Apply(rowsLast, 1);
        (yLast * upstream).Sum().Backward();

        var rowsFirst = new Tensor(data, rows, n).Transpose(0, 1).RequireGrad();   // [n, rows]
        var yFirst = Apply(rowsFirst, 0);
        var upstreamFirst = op == "logsumexp" ? upstream : upstream.Transpose(0, 1);
        (yFirst * upstreamFirst).Sum().Backward();

        var expectedY = op == "logsumexp" ? yFirst.ToArray() : yFirst.Transpose(0, 1).ToArray();
        var expectedG = rowsFirst.Grad!.Transpose(0, 1).ToArray();
        var actualY = yLast.ToArray();
        var actualG = rowsLast.Grad!.ToArray();
        for (int i = 0; i < actualY.Length; i++) Assert.True(Math.Abs(actualY[i] - expectedY[i]) <= 2e-5f * Math.Max(1f, Math.Abs(expectedY[i])), $"{op} y[{i}] {actualY[i]} vs {expectedY[i]}");
        for (int i = 0; i < actualG.Length; i++) Assert.True(Math.Abs(actualG[i] - expectedG[i]) <= 2e-5f * Math.Max(1f, Math.Abs(expectedG[i])), $"{op} dx[{i}] {actualG[i]} vs {expectedG[i]}");
    }

    [Fact]
    public void LogSumExpOfANegativeInfinityRowIsNegativeInfinity()
    {
        var x = new Tensor([float.NegativeInfinity, float.NegativeInfinity, 0f, 1f], 2, 2);
        var y = x.LogSumExp(-1).ToArray();
        Assert.Equal(float.NegativeInfinity, y[0]);
        Assert.Equal(1f + MathF.Log(1f + MathF.Exp(-1f)), y[1], 6);
    }
}
