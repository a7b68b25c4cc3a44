using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Tests.Tensors;

public class AutogradTests
{
    [Fact]
    public void GradientsAccumulateAcrossBackwardCallsUntilZeroed()
    {
        var w = Tensor.FromArray([1f, 2f], 2).RequireGrad();
        (w * 3f).Sum().Backward();
        (w * 3f).Sum().Backward();
        Assert.Equal([6f, 6f], w.Grad!.Data);
        w.ZeroGrad();
        Assert.Null(w.Grad);
    }

    [Fact]
    public void ATensorUsedTwiceGetsBothContributions()
    {
        var x = Tensor.FromArray([3f], 1).RequireGrad();
        (x * x + x).Sum().Backward(); // d/dx (x² + x) = 2x + 1
        Assert.Equal(7f, x.Grad!.Data[0]);
    }

    [Fact]
    public void SharedGradientBuffersAreNotCorruptedByAccumulation()
    {
        // add passes the same gradient object to both inputs; accumulating into one must not change the other.
        var a = Tensor.FromArray([1f], 1).RequireGrad();
        var b = Tensor.FromArray([1f], 1).RequireGrad();
        var y = a + b;
        var z = (y + a).Sum();
        z.Backward();
        Assert.Equal(2f, a.Grad!.Data[0]);
        Assert.Equal(1f, b.Grad!.Data[0]);
    }

    [Fact]
    public void BackwardReleasesTheGraphSoASecondBackwardThrows()
    {
        var w = Tensor.FromArray([1f, 2f], 2).RequireGrad();
        var loss = (w.Square() * 3f).Sum();
        loss.Backward();
        Assert.Equal([6f, 12f], w.Grad!.Data);
        var ex = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("second time", ex.Message);
    }

    [Fact]
    public void SavedActivationsBecomeCollectableDuringBackward()
    {
        // The square's input (an intermediate) is saved for its chain rule; after backward nothing should hold it.
        var w = Tensor.Ones(1000).RequireGrad();
        var (loss, intermediate) = BuildChain(w);
        loss.Backward();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(intermediate.IsAlive);
        Assert.Equal(4f, w.Grad!.Data[0]); // d/dw ½(2w)² = 4w
        GC.KeepAlive(loss);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static (Tensor Loss, WeakReference Intermediate) BuildChain(Tensor w)
    {
        var h = w * 2f;
        return ((h.Square() * 0.5f).Sum(), new WeakReference(h));
    }

    [Fact]
    public void NoGradRecordsNothingAndDetachStopsGradients()
    {
        var w = Tensor.Ones(3).RequireGrad();
        using (GradMode.NoGrad())
        {
            var y = w * 2f;
            Assert.False(y.RequiresGrad);
            Assert.True(y.IsLeaf);
        }
        Assert.True(GradMode.IsEnabled);
        var d = (w * 2f).Detach();
        Assert.False(d.RequiresGrad);
        Assert.Throws<InvalidOperationException>(() => d.Sum().Backward());
    }

    [Fact]
    public void BackwardNeedsAScalarOrAnExplicitGradient()
    {
        var w = Tensor.Ones(3).RequireGrad();
        var y = w * 2f;
        var ex = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("[3]", ex.Message);
        y.Backward(Tensor.FromArray([1f, 0f, 2f], 3));
        Assert.Equal([2f, 0f, 4f], w.Grad!.Data);
    }

    [Fact]
    public void NonLeafGradientsAreReleasedUnlessRetained()
    {
        var w = Tensor.Ones(2).RequireGrad();
        var h = (w * 2f).RetainGrad();
        var k = w * 3f;
        (h + k).Sum().Backward();
        Assert.NotNull(h.Grad);
        Assert.Null(k.Grad);
    }

    [Fact]
    public void ShapeErrorsNameBothShapes()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3) + Tensor.Zeros(4));
        Assert.Contains("[2, 3]", ex.Message);
        Assert.Contains("[4]", ex.Message);
        Assert.Throws<ArgumentException>(() => Tensor.MatMul(Tensor.Zeros(2, 3), Tensor.Zeros(4, 5)));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3).Reshape(4, -1));
        Assert.Throws<ArgumentException>(() => new Tensor(new float[5], 2, 3));
    }

    [Fact]
    public void DeepChainsDoNotOverflowTheStack()
    {
        var x = Tensor.Ones(1).RequireGrad();
        var y = x;
        for (int i = 0; i < 20000; i++) y = y + 0f;
        y.Sum().Backward();
        Assert.Equal(1f, x.Grad!.Data[0]);
    }
}
