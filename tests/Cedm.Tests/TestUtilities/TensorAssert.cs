using Cedm.Tensors;

namespace Cedm.Tests.TestUtilities;

/// <summary>Element-wise comparison with |a − e| ≤ atol + rtol·|e|; on failure prints index, expected and actual.</summary>
public static class TensorAssert
{
    public static void Close(Tensor expected, Tensor actual, double atol, double rtol, string what = "")
    {
        Assert.True(expected.Shape.SequenceEqual(actual.Shape), $"{what}: shape {Shapes.Format(actual.Shape)}, expected {Shapes.Format(expected.Shape)}");
        Close(expected.Data, actual.Data, atol, rtol, what);
    }

    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double atol, double rtol, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        int bad = 0, first = -1;
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i], err = Math.Abs(a - e);
            bool ok = err <= atol + rtol * Math.Abs(e) || (double.IsNaN(e) && double.IsNaN(a));
            if (!ok) { bad++; if (first < 0) first = i; }
            worst = Math.Max(worst, err);
        }
        if (bad > 0)
            Assert.Fail($"{what}: {bad}/{expected.Length} elements differ (atol {atol}, rtol {rtol}); first at {first}: expected {expected[first]:G9}, actual {actual[first]:G9}; max abs error {worst:G3}");
    }
}
