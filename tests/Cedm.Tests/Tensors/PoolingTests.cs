using Cedm.Tensors;
using Cedm.Tensors.Autograd;
using Cedm.Tests.TestUtilities;

namespace Cedm.Tests.Tensors;

/// <summary>MaxPool2d / AvgPool2d (Inception-v3, spec §6.1): reference loops, gradients, PyTorch fixtures.</summary>
public class PoolingTests
{
    private const double FixtureTolerance = 1e-6;

    [Theory]
    [InlineData(3, 2, 0)]
    [InlineData(3, 1, 1)]
    [InlineData(2, 2, 1)]
    [InlineData(5, 3, 2)]
    public void MatchesReferenceLoops(int k, int s, int p)
    {
        var x = Tensor.Randn(new Rng(11), [2, 3, 9, 8]);
        TensorAssert.Close(ReferencePool(x, k, s, p, max: true, includePad: true), x.MaxPool2d(k, s, p), 0, 0, "max");
        foreach (bool incl in new[] { true, false })
            TensorAssert.Close(ReferencePool(x, k, s, p, max: false, includePad: incl), x.AvgPool2d(k, s, p, incl), 1e-6, 1e-6, $"avg incl={incl}");
    }

    [Fact]
    public void ExcludingPaddingDividesByInImageCount()
    {
        var x = Tensor.Ones(1, 1, 3, 3);
        // A corner window covers 4 image pixels and 5 padding pixels.
        Assert.Equal(1f, x.AvgPool2d(3, 1, 1, countIncludePad: false)[0, 0, 0, 0]);
        Assert.Equal(4f / 9f, x.AvgPool2d(3, 1, 1, countIncludePad: true)[0, 0, 0, 0], 6);
        Assert.Equal(1f, (-x).MaxPool2d(3, 1, 1)[0, 0, 0, 0] * -1f); // padding is −∞, never the max
    }

    [Fact]
    public void MaxPoolPropagatesNaN()
    {
        var x = Tensor.FromArray([1, float.NaN, 3, 4], 1, 1, 2, 2);
        Assert.True(float.IsNaN(x.MaxPool2d(2, 2).Item()));
    }

    [Fact]
    public void GradChecks()
    {
        foreach (var (k, s, p) in new[] { (3, 2, 0), (3, 1, 1), (2, 2, 1) })
        {
            Check(t => t[0].MaxPool2d(k, s, p), Tensor.Randn(new Rng(k * 7 + s), [1, 2, 6, 7]).RequireGrad());
            Check(t => t[0].AvgPool2d(k, s, p, true), Tensor.Randn(new Rng(k * 5 + s), [1, 2, 6, 7]).RequireGrad());
            Check(t => t[0].AvgPool2d(k, s, p, false), Tensor.Randn(new Rng(k * 3 + s), [1, 2, 6, 7]).RequireGrad());
        }
    }

    [Theory]
    [InlineData("pool_max_k3_s2")]
    [InlineData("pool_max_k3_s1_p1")]
    [InlineData("pool_avg_k3_s1_p1_incl")]
    [InlineData("pool_avg_k3_s1_p1_excl")]
    [InlineData("pool_avg_k3_s2_p1_excl")]
    public void MatchesPyTorchFixture(string name)
    {
        var f = FixtureFile.Load($"ops/{name}.bin");
        var x = f["x"].RequireGrad();
        int k = (int)f["kernel"].Item(), s = (int)f["stride"].Item(), p = (int)f["padding"].Item();
        var y = name.Contains("max") ? x.MaxPool2d(k, s, p) : x.AvgPool2d(k, s, p, f["include_pad"].Item() != 0);
        TensorAssert.Close(f["y"], y, FixtureTolerance, FixtureTolerance, $"{name} y");
        y.Backward(f["gy"]);
        TensorAssert.Close(f["gx"], x.Grad!, FixtureTolerance, FixtureTolerance, $"{name} gx");
    }

    [Fact]
    public void RejectsBadGeometry()
    {
        var x = Tensor.Zeros(1, 1, 4, 4);
        Assert.Throws<ArgumentException>(() => x.MaxPool2d(0, 1));
        Assert.Throws<ArgumentException>(() => x.MaxPool2d(3, 1, 2));
        Assert.Throws<ArgumentException>(() => x.AvgPool2d(7, 1));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(4, 4).MaxPool2d(2, 2));
    }

    /// <summary>Direct definition: window over the zero/−∞-padded image, one output at a time.</summary>
    private static Tensor ReferencePool(Tensor x, int k, int s, int p, bool max, bool includePad)
    {
        int n = x.Dim(0), c = x.Dim(1), h = x.Dim(2), w = x.Dim(3);
        int oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
        var y = Tensor.Zeros(n, c, oh, ow);
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        double acc = max ? double.NegativeInfinity : 0;
                        int count = 0;
                        for (int i = 0; i < k; i++)
                            for (int j = 0; j < k; j++)
                            {
                                int iy = oy * s - p + i, ix = ox * s - p + j;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                double v = x[b, ch, iy, ix];
                                acc = max ? Math.Max(acc, v) : acc + v;
                                count++;
                            }
                        y[b, ch, oy, ox] = (float)(max ? acc : acc / (includePad ? k * k : count));
                    }
        return y;
    }

    private static void Check(Func<Tensor[], Tensor> f, Tensor x)
    {
        var r = GradCheck.Check(f, [x]);
        Assert.True(r.Passed, r.ToString());
    }
}
