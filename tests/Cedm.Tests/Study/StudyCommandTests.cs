using System.Text.Json.Nodes;
using Cedm.Pipeline.Study;
using Cedm.Tests.Diffusion;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Study;

/// <summary>
/// `cedm study --quick` end to end on 150 synthetic 8×8 images with 3 labels (~20 s): a row per variant with finite
/// metrics, the sample-efficiency series, the plots and report.html; a re-run recomputes nothing; a variant whose
/// training was interrupted resumes from its checkpoint.
/// </summary>
public sealed class StudyCommandTests : CliTest
{
    private string Source() => TrainingTestData.WritePatternsSource(Dir, 50);

    [Fact]
    public async Task QuickStudyWritesARowPerVariantThePlotsAndAReportAndResumesWithoutRecomputing()
    {
        string study = Path.Combine(Dir, "study");
        string[] args = ["study", Source(), "--quick", "--max-k", "4", "--features", "pca:8", "--evaluator", "pca:8", "--kimg", "0.064", "--eval-samples", "16", "--out", study];
        var (code, output, err) = Run(args);
        code.Should().Be(0, err);
        output.Should().Contain("report.html");

        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(study, StudyResults.JsonFile)))!;
        int kub = JsonNode.Parse(File.ReadAllText(Path.Combine(study, "bound/bound.json")))!["k_ub"]!.GetValue<int>();
        json["k_ub"]!.GetValue<int>().Should().Be(kub);
        var rows = json["variants"]!.AsArray().Select(r => r!.AsObject()).ToList();
        rows.Select(r => r["name"]!.GetValue<string>()).Should().StartWith(["uncond", "labels"]);
        rows.Skip(2).Should().HaveCountGreaterThan(1).And.OnlyContain(r => r["kind"]!.GetValue<string>() == "clusters");
        // The guidance comparison comes last, at the best plain K: CAD, CAD with CA guidance 1 (the same model), CFG w = 1.
        rows.Select(r => r["name"]!.GetValue<string>()).Should().EndWith(["cad", "cad-ca1", "cfg-w1"]);
        string best = json["best"]!.GetValue<string>();
        best.Should().StartWith("k", "only the plain k<K> models compete for the best K");
        foreach (var r in rows.TakeLast(3)) ("k" + r["k"]!.GetValue<int>()).Should().Be(best);
        File.ReadAllText(Path.Combine(study, "variants", "cad", "commands.txt")).Should().Contain("--coherence maxprob");
        File.ReadAllText(Path.Combine(study, "variants", "cad-ca1", "commands.txt")).Should().Contain("--ca-guidance 1")
            .And.Contain(Path.Combine("variants", "cad", "train"), "guidance at sampling reuses the CAD model");
        Directory.Exists(Path.Combine(study, "variants", "cad-ca1", "train")).Should().BeFalse();
        File.ReadAllText(Path.Combine(study, "variants", "cfg-w1", "commands.txt")).Should().Contain("--p-uncond 0.1").And.Contain("--guidance 1");
        foreach (var r in rows)
        {
            double.IsFinite(r["fd"]!.GetValue<double>()).Should().BeTrue($"{r["name"]} has an FD");
            r["kimg"]!.GetValue<double>().Should().BeGreaterThanOrEqualTo(0.064, "every model gets the same image budget");
            File.Exists(Path.Combine(study, "variants", r["name"]!.GetValue<string>(), "eval", "metrics.json")).Should().BeTrue();
        }
        rows[1]["k"]!.GetValue<int>().Should().Be(3, "the label model conditions on the 3 labels");
        foreach (var r in rows.Skip(2))
            r["ratio"]!.GetValue<double>().Should().BeApproximately(r["k_used"]!.GetValue<double>() / r["k"]!.GetValue<double>(), 1e-12);
        var series = json["series"]!.AsArray().Select(p => (Variant: p!["variant"]!.GetValue<string>(), Kimg: p["kimg"]!.GetValue<double>())).ToList();
        series.Select(p => p.Variant).Distinct().Should().Equal("uncond", json["best"]!.GetValue<string>());
        series.Where(p => p.Variant == "uncond").Select(p => p.Kimg).Should().BeInAscendingOrder().And.HaveCount(2);
        File.ReadAllLines(Path.Combine(study, StudyResults.CsvFile)).Should().HaveCount(rows.Count + 1);
        foreach (var plot in new[] { StudyPlots.FdOverKFile, StudyPlots.RatioOverKFile, StudyPlots.FdOverKimgFile })
            File.ReadAllText(Path.Combine(study, plot)).Should().StartWith("<svg");
        string html = File.ReadAllText(Path.Combine(study, "report.html"));
        html.Split("<svg").Length.Should().BeGreaterThan(3, "the three figures are embedded");
        html.Should().Contain("data:image/png;base64", "sample grids are embedded");
        File.ReadAllLines(Path.Combine(study, "variants", "labels", "commands.txt")).Should().HaveCountGreaterThanOrEqualTo(3)
            .And.OnlyContain(l => l.StartsWith("cedm ", StringComparison.Ordinal));
        StudyOptions.FromJson(File.ReadAllText(Path.Combine(study, StudyOptions.FileName))).Kimg.Should().Be(0.064);

        // A re-run with the same --out skips everything and rewrites nothing.
        var stamps = Directory.GetFiles(study, "*", SearchOption.AllDirectories).Where(f => !f.Contains("/steps/") && !f.Contains("/logs/") && !Path.GetFileName(f).StartsWith(Cedm.IO.FolderLock.FileName, StringComparison.Ordinal))
            .ToDictionary(f => f, File.GetLastWriteTimeUtc);
        var again = Run("study", "--out", study, "--json");
        again.Code.Should().Be(0, again.Err);
        JsonNode.Parse(again.Out)!["variants"]!.AsArray().Should().HaveCount(rows.Count, "--json prints study.json");
        again.Err.Should().NotContain(" ...", "no step runs again");
        foreach (var (file, stamp) in stamps) File.GetLastWriteTimeUtc(file).Should().Be(stamp, $"{file} must not be rewritten by a resumed study");

        // A study killed while training the last variant: its training resumes from the checkpoint, nothing else runs.
        string last = rows[^1]["name"]!.GetValue<string>();
        File.Delete(Path.Combine(study, "steps", "variants", last, "train.json"));
        var resumed = Run("study", "--out", study);
        resumed.Code.Should().Be(0, resumed.Err);
        // Then the report is rebuilt: a step finished after it, so it may summarise a different model.
        var started = resumed.Err.Split('\n').Where(l => l.EndsWith(" ...", StringComparison.Ordinal)).ToList();
        started.Should().HaveCount(2);
        started[0].Should().Contain($"{last}: training");
        started[1].Should().Contain("study.json, plots and report.html");
        File.ReadLines(Path.Combine(study, "logs", "variants", last, "train.log")).First().Should().Contain("--resume").And.Contain("--kimg 0.064");
        static bool ReportOutput(string f) => Path.GetDirectoryName(f)!.EndsWith("plots", StringComparison.Ordinal) || Path.GetFileName(f) is "study.json" or "study.csv" or "report.html" or "commands.txt";
        foreach (var (file, stamp) in stamps.Where(kv => !kv.Key.Contains($"/variants/{last}/train/") && !ReportOutput(kv.Key)))
            File.GetLastWriteTimeUtc(file).Should().Be(stamp, $"{file} belongs to a finished step");

        if (HeadlessChromium.Executable == null) return; // the Chromium check is covered by ChromiumFact tests' skip message
        var page = await HeadlessChromium.OpenAsync(Path.Combine(study, "report.html"));
        page.Images.Should().BeGreaterThanOrEqualTo(rows.Count, "a sample grid per model");
        page.BrokenImages.Should().Be(0);
        page.Svgs.Should().BeGreaterThanOrEqualTo(3, "FD over K, the utilisation ratio and FD over kimg");
        page.ConsoleErrors.Should().BeEmpty();
    }

    [Fact]
    public void HelpListsEveryOptionWithItsDefaultAndTheBudgetRule()
    {
        var (code, output, _) = Run("study", "--help");
        code.Should().Be(0);
        var d = new StudyOptions();
        output.Should().Contain($"Default {d.Kimg.ToString(System.Globalization.CultureInfo.InvariantCulture)} (quick")
            .And.Contain("fairly on a shared, noisy machine")
            .And.Contain($"default {d.EvalSamples}").And.Contain($"default {d.KCap}").And.Contain($"{d.BoundMinutes}-minute budget")
            .And.Contain($"default {d.SeriesPoints}").And.Contain($"default {d.SamplerSteps}").And.Contain("[default: temi]")
            .And.Contain("[default: pca:64]").And.Contain("[default: tiny]").And.Contain("--ks").And.Contain("--variant").And.Contain("--no-labels");
    }

    [Theory]
    [InlineData("--ks", "1,x")]
    [InlineData("--variant", "nokind")]
    [InlineData("--kimg", "0")]
    public void BadOptionsAreUsageErrors(string option, string value) =>
        Run("study", "npy:none.npy", "--out", Path.Combine(Dir, "s"), option, value).Code.Should().Be(2);
}
