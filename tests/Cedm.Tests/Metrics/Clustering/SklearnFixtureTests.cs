using System.Diagnostics;
using System.Text.Json;
using Cedm.IO;
using Cedm.Metrics.Clustering;
using FluentAssertions;
using Xunit.Abstractions;

namespace Cedm.Tests.Metrics.Clustering;

/// <summary>
/// NMI, AMI, ARI against scikit-learn 1.2.1 and ACC against TEMI's procedure with scipy, on the cases written by
/// tools/fixtures/make_metric_fixtures.py (random, structured, single-cluster, tiny N, large K, N = 60 000).
/// </summary>
public sealed class SklearnFixtureTests(ITestOutputHelper output)
{
    /// <summary>The brief's agreement bound; the formulas match sklearn's term by term, so only rounding differs.</summary>
    private const double Tolerance = 1e-6;

    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "metrics");

    private static JsonElement Document()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "cases.json")));
        return doc.RootElement.Clone();
    }

    public static TheoryData<string> CaseNames()
    {
        var names = new TheoryData<string>();
        foreach (var c in Document().GetProperty("cases").EnumerateArray()) names.Add(c.GetProperty("name").GetString()!);
        return names;
    }

    private static long[] Labels(JsonElement c, string key) => c.GetProperty(key).EnumerateArray().Select(v => v.GetInt64()).ToArray();

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void AgreesWithSklearn(string name)
    {
        var c = Document().GetProperty("cases").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        var pred = Labels(c, "pred");
        var truth = Labels(c, "true");
        var s = ClusteringScores.Compute(pred, truth);
        AssertScores(c, s, pred.Length);
    }

    [Fact]
    public void SixtyThousandLabelsKPred100VersusKTrue10()
    {
        var c = Document().GetProperty("large")[0];
        var pred = Npy.Read(Path.Combine(Dir, c.GetProperty("pred_file").GetString()!)).ToInt64();
        var truth = Npy.Read(Path.Combine(Dir, c.GetProperty("true_file").GetString()!)).ToInt64();
        ClusteringScores.Compute(pred, truth); // warm-up (JIT)
        var best = TimeSpan.MaxValue;
        for (int repeat = 0; repeat < 3; repeat++) // best of three: machine load adds noise, not cost
        {
            var clock = Stopwatch.StartNew();
            var s = ClusteringScores.Compute(pred, truth);
            clock.Stop();
            AssertScores(c, s, 60_000);
            if (clock.Elapsed < best) best = clock.Elapsed;
        }
        output.WriteLine($"N = 60 000, K 100 vs 10: best of 3 = {best.TotalMilliseconds:F1} ms");
        best.Should().BeLessThan(TimeSpan.FromSeconds(1), "the brief asks for well under a second");
    }

    private static void AssertScores(JsonElement c, ClusteringScores s, int n)
    {
        string name = c.GetProperty("name").GetString()!;
        s.N.Should().Be(n);
        s.KPred.Should().Be(c.GetProperty("k_pred").GetInt32(), name);
        s.KTrue.Should().Be(c.GetProperty("k_true").GetInt32(), name);
        s.Nmi.Should().BeApproximately(c.GetProperty("nmi").GetDouble(), Tolerance, $"{name} NMI");
        s.Ari.Should().BeApproximately(c.GetProperty("ari").GetDouble(), Tolerance, $"{name} ARI");
        // Both labelings all singletons (N ≥ 2): sklearn's AMI is 0/0 rounding noise (0.0 at N = 2, 4); ours is 1 (see Ami).
        double ami = s.KPred == n && s.KTrue == n && n >= 2 ? 1.0 : c.GetProperty("ami").GetDouble();
        s.Ami.Should().BeApproximately(ami, Tolerance, $"{name} AMI");
        // ACC: TEMI's value except where scipy's tie-breaking decides it; then the documented largest tie answer,
        // which is never below TEMI's value on compact ids.
        s.Acc.Should().BeApproximately(c.GetProperty("acc_tie_max").GetDouble(), 1e-12, $"{name} ACC");
        s.Acc.Should().BeGreaterThanOrEqualTo(c.GetProperty("acc_compact").GetDouble() - 1e-12, name);
    }

    [Fact]
    public void TieDependentCasesAreFewAndEveryOtherAccIsTemis()
    {
        var cases = Document().GetProperty("cases").EnumerateArray().ToList();
        var tieDependent = cases.Where(c => c.GetProperty("acc").GetDouble() != c.GetProperty("acc_tie_max").GetDouble())
            .Select(c => c.GetProperty("name").GetString()).ToList();
        tieDependent.Should().Contain("overclustered_tie").And.HaveCountLessThanOrEqualTo(3);
        foreach (var c in cases.Where(c => !tieDependent.Contains(c.GetProperty("name").GetString())))
            ClusteringScores.Compute(Labels(c, "pred"), Labels(c, "true")).Acc
                .Should().BeApproximately(c.GetProperty("acc").GetDouble(), 1e-12, c.GetProperty("name").GetString());
    }
}
