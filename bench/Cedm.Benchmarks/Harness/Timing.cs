using System.Diagnostics;

namespace Cedm.Benchmarks.Harness;

/// <summary>Min/median/max milliseconds per call over the repeats.</summary>
public sealed record TimingStats(double MinMs, double MedianMs, double MaxMs, int Iterations, int Repeats)
{
    public static TimingStats FromSamples(IReadOnlyList<double> perCallMs, int iterations)
    {
        var sorted = perCallMs.Order().ToArray();
        int n = sorted.Length;
        double median = n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
        return new TimingStats(sorted[0], median, sorted[^1], iterations, n);
    }
}

/// <summary>
/// Times an action the same way the Python peers do (bench/peers/_peer.py), so numbers are comparable:
/// one warm-up call (JIT, page faults, pack buffers), calibrate how many calls make a sample of at least
/// <c>sampleMs</c> (short ops are too noisy one call at a time), one warm-up sample, then
/// <c>repeats</c> samples; each sample's time is divided by its call count.
/// </summary>
public static class Timing
{
    /// <summary>Calls at least this long skip the warm-up sample (same rule in peers/_peer.py).</summary>
    public const double LongCallMs = 5000;

    public static TimingStats Measure(Action action, int repeats, double sampleMs)
    {
        var sw = Stopwatch.StartNew();
        action();
        double firstMs = sw.Elapsed.TotalMilliseconds;
        int iterations = Math.Max(1, (int)Math.Ceiling(sampleMs / Math.Max(firstMs, 1e-3)));

        // Whole fits that take seconds (clustering) are warm after one call: skip the warm-up sample.
        if (firstMs < LongCallMs)
            RunSample(action, iterations);
        var samples = new List<double>(repeats);
        for (int r = 0; r < repeats; r++)
            samples.Add(RunSample(action, iterations) / iterations);
        return TimingStats.FromSamples(samples, iterations);
    }

    private static double RunSample(Action action, int iterations)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < iterations; i++)
            action();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }
}
