using Cedm.Metrics.Clustering;
using FluentAssertions;

namespace Cedm.Tests.Metrics.Clustering;

/// <summary>The rectangular assignment against brute force over all injective maps on small random matrices.</summary>
public sealed class HungarianTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 5)]
    [InlineData(5, 1)]
    [InlineData(3, 3)]
    [InlineData(4, 6)]
    [InlineData(6, 4)]
    [InlineData(6, 6)]
    [InlineData(2, 7)]
    [InlineData(7, 3)]
    public void MatchesBruteForceOnRandomMatrices(int rows, int cols)
    {
        var rng = new Random(rows * 31 + cols);
        for (int trial = 0; trial < 40; trial++)
        {
            // Small integers make ties frequent; real values check the general case.
            bool integers = trial % 2 == 0;
            var w = Enumerable.Range(0, rows * cols).Select(_ => integers ? rng.Next(0, 4) : rng.NextDouble() * 10 - 3).ToArray();
            var best = BruteForce(w, rows, cols, maximize: true);
            var worst = BruteForce(w, rows, cols, maximize: false);
            var max = Hungarian.Maximize(w, rows, cols);
            var min = Hungarian.Minimize(w, rows, cols);
            AssertValid(max, rows, cols);
            AssertValid(min, rows, cols);
            Total(w, cols, max).Should().BeApproximately(best, 1e-9, $"max {rows}x{cols} trial {trial}");
            Total(w, cols, min).Should().BeApproximately(worst, 1e-9, $"min {rows}x{cols} trial {trial}");
        }
    }

    [Fact]
    public void EmptyAndMismatchedInputs()
    {
        Hungarian.Maximize([], 0, 3).Should().BeEmpty();
        Hungarian.Maximize([], 2, 0).Should().Equal(-1, -1);
        var act = () => Hungarian.Maximize(new double[5], 2, 3);
        act.Should().Throw<ArgumentException>().WithMessage("*2×3*");
        var nan = () => Hungarian.Maximize([double.NaN], 1, 1);
        nan.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void A200By1000ProblemIsSolvedQuickly()
    {
        // O(n²m) = 4·10⁷ steps: the ACC assignment for K = 1000 clusters over 200 classes.
        var rng = new Random(7);
        var w = Enumerable.Range(0, 200 * 1000).Select(_ => (double)rng.Next(0, 100)).ToArray();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var a = Hungarian.Maximize(w, 1000, 200);
        clock.Stop();
        a.Count(c => c >= 0).Should().Be(200);
        a.Where(c => c >= 0).Distinct().Should().HaveCount(200);
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2));
    }

    private static void AssertValid(int[] assignment, int rows, int cols)
    {
        assignment.Should().HaveCount(rows);
        var used = assignment.Where(c => c >= 0).ToList();
        used.Should().OnlyHaveUniqueItems().And.HaveCount(Math.Min(rows, cols));
        used.Should().OnlyContain(c => c < cols);
    }

    private static double Total(double[] w, int cols, int[] assignment)
    {
        double t = 0;
        for (int r = 0; r < assignment.Length; r++)
            if (assignment[r] >= 0) t += w[r * cols + assignment[r]];
        return t;
    }

    /// <summary>Every way to give min(rows, cols) rows distinct columns (rows ≤ 7, so at most 7! maps).</summary>
    private static double BruteForce(double[] w, int rows, int cols, bool maximize)
    {
        double best = maximize ? double.NegativeInfinity : double.PositiveInfinity;
        int picks = Math.Min(rows, cols);
        var usedCol = new bool[cols];
        // Choose the matched pairs in increasing row order: at each step either skip the row (if enough rows remain) or match it.
        void Recurse(int row, int matched, double total)
        {
            if (matched == picks) { best = maximize ? Math.Max(best, total) : Math.Min(best, total); return; }
            if (row == rows) return;
            if (rows - row - 1 >= picks - matched) Recurse(row + 1, matched, total);
            for (int c = 0; c < cols; c++)
            {
                if (usedCol[c]) continue;
                usedCol[c] = true;
                Recurse(row + 1, matched + 1, total + w[row * cols + c]);
                usedCol[c] = false;
            }
        }
        Recurse(0, 0, 0);
        return best;
    }
}
