using System.Text.Json.Nodes;
using Cedm.Pipeline.Study;
using Cedm.Reporting;
using FluentAssertions;

namespace Cedm.Tests.Study;

/// <summary>study.csv, study.json and the figures from fake results (no training involved).</summary>
public sealed class StudyResultsTests
{
    private static StudyResult Fake() => new(new StudyOptions(), 20, "fmnist", "k20",
        [
            new StudyRow("uncond", "uncond", null, null, null, 12.0, 40.5, 0.5, 0.4, 0.9, 0.7, 0.01, 420, 300),
            new StudyRow("labels", "labels", 10, 10, 1, 12.0, 30.25, 0.6, 0.5, 1.0, 0.8, 0.008, 410, 299),
            new StudyRow("k10", "clusters", 10, 10, 1, 12.0, 33, 0.6, 0.5, 1.0, 0.8, 0.009, 400, 298),
            new StudyRow("k20", "clusters", 20, 19, 0.95, 12.0, 31.5, 0.6, 0.5, 1.0, 0.8, 0.009, 400, 298),
            new StudyRow("k80", "clusters", 80, 60, 0.75, 12.0, double.NaN, 0.6, 0.5, 1.0, 0.8, null, 400, 298),
        ],
        [new SeriesPoint("uncond", 4, 80, 0.2, 0.1), new SeriesPoint("uncond", 12, 40.5, 0.5, 0.4), new SeriesPoint("k20", 4, 60, 0.3, 0.2), new SeriesPoint("k20", 12, 31.5, 0.6, 0.5)]);

    [Fact]
    public void CsvHasOneLinePerVariantInTheInvariantCultureWithEmptyCellsForMissingValues()
    {
        // (The project runs in invariant-globalization mode, so no decimal comma can leak in; the format is still explicit.)
        var lines = StudyResults.ToCsv(Fake().Rows).TrimEnd('\n').Split('\n');
        lines[0].Should().Be("name,kind,k,k_used,ratio,kimg,fd,precision,recall,density,coverage,kid,seconds,train_seconds,nmi,acc");
        lines.Should().HaveCount(6);
        lines[1].Should().Be("uncond,uncond,,,,12,40.5,0.5,0.4,0.9,0.7,0.01,420,300,,");
        lines[4].Should().StartWith("k20,clusters,20,19,0.95,12,31.5,");
        lines[5].Split(',')[6].Should().BeEmpty("a NaN FD is an empty cell");
        lines.Skip(1).Should().OnlyContain(l => l.Split(',').Length == StudyResults.CsvColumns.Length);
    }

    [Fact]
    public void JsonHasTheOptionsARowPerVariantAndTheSeries()
    {
        var json = JsonNode.Parse(StudyResults.ToJson(Fake()).ToJsonString())!;
        json["k_ub"]!.GetValue<int>().Should().Be(20);
        json["best"]!.GetValue<string>().Should().Be("k20");
        json["options"]!["kimg"]!.GetValue<double>().Should().Be(12);
        var rows = json["variants"]!.AsArray();
        rows.Should().HaveCount(5);
        rows[3]!["k_used"]!.GetValue<int>().Should().Be(19);
        rows[3]!["ratio"]!.GetValue<double>().Should().Be(0.95);
        rows[0]!["k"].Should().BeNull();
        rows[4]!["fd"]!.GetValue<string>().Should().Be("NaN");
        json["series"]!.AsArray().Select(p => p!["variant"]!.GetValue<string>()).Should().Equal("uncond", "uncond", "k20", "k20");
    }

    [Fact]
    public void TheFdOverKFigureHasTheSweepTheReferencesAndTheBound()
    {
        var chart = StudyPlots.FdOverK(Fake());
        chart.LogX.Should().BeTrue();
        chart.Series[0].Points.Select(p => p.X).Should().Equal(10, 20, 80);
        chart.Series.Single(s => s.Name == "unconditional").Points.Should().Equal((10.0, 40.5), (80.0, 40.5));
        chart.Series.Single(s => s.Name.StartsWith("labels", StringComparison.Ordinal)).Points.Select(p => p.Y).Should().AllBeEquivalentTo(30.25);
        chart.Markers!.Single().X.Should().Be(20);
        SvgChart.Render(chart).Should().Contain("K_UB = 20").And.Contain("unconditional");

        var ratio = StudyPlots.RatioOverK(Fake(), [(10, 1), (20, 0.95), (40, 0.9)]);
        ratio.Series.Select(s => s.Name).Should().Equal("bound search r(K)", "study clusterings");
        ratio.Series[1].Points.Should().Equal((10.0, 1.0), (20.0, 0.95), (80.0, 0.75));
        StudyPlots.FdOverKimg(Fake()).Series.Select(s => (s.Name, s.Points.Count)).Should().Equal(("uncond", 2), ("k20", 2));
    }

    [Fact]
    public void SecondSeedsJoinTheirReferenceLineAsAMeanAndNameTheirSeedAsPoints()
    {
        var r = Fake() with
        {
            Rows = [.. Fake().Rows,
                new StudyRow("uncond-s1", "uncond", null, null, null, 12.0, 39.5, 0.5, 0.4, 0.9, 0.7, 0.01, 420, 300),
                new StudyRow("best-s1", "clusters", 20, 19, 0.95, 12.0, 35, 0.6, 0.5, 1.0, 0.8, 0.009, 400, 298)],
        };
        var chart = StudyPlots.FdOverK(r);
        var uncond = chart.Series.Where(s => s.Name.StartsWith("unconditional", StringComparison.Ordinal)).Should().ContainSingle().Subject;
        uncond.Name.Should().Be("unconditional, mean of 2 seeds (40.5, 39.5)");
        uncond.Points.Select(p => p.Y).Should().AllBeEquivalentTo(40.0);
        chart.Series.Single(s => s.Name.StartsWith("labels", StringComparison.Ordinal)).Name.Should().Be("labels (K = 10)", "one seed: no mean");
        var seed1 = chart.Series.Single(s => s.Name.Contains("best-s1"));
        seed1.Name.Should().Be("K = 20, training seed 1 (best-s1)");
        seed1.Points.Should().Equal((20.0, 35.0));
    }
}
