namespace Cedm.Tests.TestUtilities;

/// <summary>Element-wise closeness with a message naming the worst element.</summary>
public static class ArrayAssert
{
    /// <summary>Passes when |a − e| ≤ atol + rtol·|e| everywhere.</summary>
    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double atol, double rtol, string what = "")
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}");
        int worst = -1;
        double worstRatio = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs((double)actual[i] - expected[i]);
            double ratio = double.IsFinite(actual[i]) ? err / (atol + rtol * Math.Abs(expected[i])) : double.PositiveInfinity;
            if (ratio > worstRatio) { worstRatio = ratio; worst = i; }
        }
        Assert.True(worstRatio <= 1.0, worst < 0 ? what : $"{what}: element {worst} is {actual[worst]:G7}, expected {expected[worst]:G7} (ratio {worstRatio:G3})");
    }
}
