using Cedm.Nn.Optim;
using Cedm.Tensors;

namespace Cedm.Tests.Nn;

public class GradientUtilsTests
{
    private static Tensor WithGrad(params float[] g) => Tensor.Zeros(g.Length).RequireGrad().Also(t => t.Grad = Tensor.FromArray(g, g.Length));

    [Fact]
    public void ClipGradNormScalesToMaxNormAndReturnsTheTotal()
    {
        var a = WithGrad(3f, 0f);
        var b = WithGrad(0f, 4f);
        var none = Tensor.Zeros(2).RequireGrad();
        double total = GradientUtils.ClipGradNorm([a, b, none], 1.0);
        Assert.Equal(5.0, total, 6);
        double c = 1.0 / (5.0 + 1e-6); // PyTorch: max_norm / (total + 1e-6)
        Assert.Equal((float)(3 * c), a.Grad!.Data[0], 6);
        Assert.Equal((float)(4 * c), b.Grad!.Data[1], 6);
        Assert.Null(none.Grad);
    }

    [Fact]
    public void ClipGradNormLeavesSmallGradientsAlone()
    {
        var a = WithGrad(0.3f, 0.4f);
        Assert.Equal(0.5, GradientUtils.ClipGradNorm([a], 1.0), 6);
        Assert.Equal([0.3f, 0.4f], a.Grad!.Data);
        Assert.Equal(0.0, GradientUtils.ClipGradNorm([Tensor.Zeros(1).RequireGrad()], 1.0));
    }

    [Fact]
    public void SanitizeReplacesNaNAndInfinitiesLikeEdm()
    {
        var a = WithGrad(float.NaN, float.PositiveInfinity, float.NegativeInfinity, 2.5f, -1e30f);
        Assert.Equal(3, GradientUtils.SanitizeGradients([a, Tensor.Zeros(1).RequireGrad()]));
        Assert.Equal([0f, 1e5f, -1e5f, 2.5f, -1e30f], a.Grad!.Data);
    }
}

internal static class TestExtensions
{
    public static T Also<T>(this T value, Action<T> action)
    {
        action(value);
        return value;
    }
}
