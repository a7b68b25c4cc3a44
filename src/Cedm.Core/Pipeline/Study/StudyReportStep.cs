using System.Text;
using System.Text.Json.Nodes;
using Cedm.Data;
using Cedm.Imaging.Png;
using Cedm.IO;
using Cedm.Clustering.Bounds;
using Cedm.Reporting;
using Cedm.Stages;

namespace Cedm.Pipeline.Study;

/// <summary>
/// The last step of `cedm study`, built only from the files the earlier steps wrote: study.json, study.csv, the SVG
/// plots under plots/, variants/&lt;name&gt;/commands.txt (the cedm commands of that variant, to re-run by hand) and
/// report.html (self-contained: the figures, the table, a sample grid per variant, the options and commands).
/// </summary>
public sealed class StudyReportStep(StudyOptions o, SourceFacts source, StudySteps steps) : ISummaryStep
{
    public string Name => "report";

    public string Title => "study.json, plots and report.html";

    public double Weight => 0.05;

    public JsonObject? Run(PipelineFolder c, IStageObserver progress)
    {
        var result = StudyResults.Collect(c, o, steps, source);
        StudyResults.Write(c.Directory, result);
        var bound = BoundTable(c);
        var charts = new (string File, LineChart Chart)[]
        {
            (StudyPlots.FdOverKFile, StudyPlots.FdOverK(result)),
            (StudyPlots.RatioOverKFile, StudyPlots.RatioOverK(result, bound)),
            (StudyPlots.FdOverKimgFile, StudyPlots.FdOverKimg(result)),
        };
        // The first two side by side in report.html (520 px each fit the page's 1100 px).
        var svgs = charts.Select((ch, i) => SvgChart.Render(i < 2 ? ch.Chart with { Width = 520 } : ch.Chart)).ToList();
        for (int i = 0; i < charts.Length; i++)
            AtomicFile.WriteAllBytes(c.PathOf(charts[i].File), Encoding.UTF8.GetBytes(svgs[i]), overwrite: true);
        var variants = steps.Variants(c);
        foreach (var v in variants) WriteCommands(c, v);
        progress.Progress(0.5);

        var report = new HtmlReport($"cedm study: {o.Source}");
        report.Paragraph(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"Every model is the {o.Preset} U-Net trained on {o.Source} for the same {o.Kimg:0.###} kimg (training images, not minutes) with seed {o.Seed}, " +
            $"then {o.EvalSamples} images are sampled ({o.SamplerSteps} {Diffusion.Sampling.SamplerSolvers.Title(o.SamplerSolver)} steps, seeds 0..{o.EvalSamples - 1}, conditions drawn from the model's training p(c)) " +
            $"and evaluated by the same `cedm eval` ({result.Evaluator}). FD from a few hundred samples is biased upwards: compare the rows with each other, not with papers."));
        report.Heading("FD over K (C-EDM Figure 3 at this scale)").Paragraph(
            "The cluster-conditioned models over K (log scale), the unconditional and the label-conditioned model as horizontal references, and the " +
            "upper bound K_UB of the utilisation-ratio search. C-EDM reports the lowest FID near K_UB; far above it clusters become small and the " +
            "utilisation ratio (right) drops.");
        report.SvgRow([svgs[0], svgs[1]]);
        report.Heading("All models");
        report.Table(["variant", "kind", "K", "K used", "ratio", "NMI", "ACC", "kimg", "FD", "precision", "recall", "density", "coverage", "minutes"],
            result.Rows.Select(r => (IReadOnlyList<string>)[
                r.Name + (r.Name == result.BestVariant ? " (best K)" : ""), r.Kind, r.K?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "–",
                r.KUsed?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "–", r.Ratio is double q ? StudyPlots.F(q) : "–",
                r.Nmi is double nmi ? StudyPlots.F(nmi) : "–", r.Acc is double acc ? StudyPlots.F(acc) : "–", StudyPlots.F(r.Kimg, "0.##"),
                StudyPlots.F(r.Fd, "0.##"), StudyPlots.F(r.Precision), StudyPlots.F(r.Recall), StudyPlots.F(r.Density), StudyPlots.F(r.Coverage), StudyPlots.F(r.Seconds / 60, "0.#")]));
        var spread = SeedSpread(result.Rows, result.BestVariant).ToList();
        if (spread.Count > 0)
            report.Heading("Spread over training seeds").Paragraph("The same model trained with seed S and S + 1: the FD difference a seed alone makes, to read the differences between models against.")
                .Table(["model", "FD seed S", "FD seed S+1", "mean", "half range"], spread.Select(s => (IReadOnlyList<string>)[
                    s.Model, StudyPlots.F(s.First, "0.##"), StudyPlots.F(s.Second, "0.##"), StudyPlots.F((s.First + s.Second) / 2, "0.##"), StudyPlots.F(Math.Abs(s.First - s.Second) / 2, "0.##")]));
        report.Heading("Sample efficiency").Paragraph(
            "FD of intermediate checkpoints of the unconditional and the best-K model: conditioning on clusters should reach a given FD with fewer training images.");
        report.Svg(svgs[2]);
        report.Table(["variant", "kimg", "FD", "precision", "recall"], result.Series.Select(p => (IReadOnlyList<string>)[
            p.Variant, StudyPlots.F(p.Kimg, "0.##"), StudyPlots.F(p.Fd, "0.##"), StudyPlots.F(p.Precision), StudyPlots.F(p.Recall)]));
        progress.Progress(0.7);

        report.Heading("Samples").Paragraph("The first generated images of every model (the same seeds in every grid).");
        var figures = new List<(string, byte[])>();
        foreach (var v in variants)
        {
            var path = c.PathOf(StudySteps.SamplesFile(v));
            if (!File.Exists(path)) continue;
            var a = Npy.Read(path);
            var images = new ImageDataset(v.Name, a.As<byte>(), a.Shape[0], a.Shape[1], a.Shape[2], a.Shape.Length == 4 ? a.Shape[3] : 1);
            int n = Math.Min(36, images.Count), cols = Math.Min(6, n);
            var rows = Enumerable.Range(0, n).Chunk(cols).Select(r => (IReadOnlyList<int>)r).ToList();
            figures.Add((v.Name, PngEncoder.Encode(ImageGrid.Compose(images, rows, new GridOptions { Scale = 2 }))));
        }
        report.Figures(figures);
        report.Heading("Options and commands");
        report.Json(StudyOptions.FileName, JsonNode.Parse(o.ToJson()));
        var commands = new JsonObject();
        foreach (var v in variants) commands[v.Name] = new JsonArray(Commands(c, v).Select(s => (JsonNode)s).ToArray());
        report.Json("the cedm commands of every variant (variants/<name>/commands.txt; re-run any of them by hand)", commands);
        report.Save(c.PathOf(StudySteps.Report));
        return new JsonObject { ["report"] = c.PathOf(StudySteps.Report), ["best"] = result.BestVariant };
    }

    /// <summary>Pairs of a model and its second training seed (uncond / uncond-s1, labels / labels-s1, best K / best-s1).</summary>
    public static IEnumerable<(string Model, double First, double Second)> SeedSpread(IReadOnlyList<StudyRow> rows, string? best)
    {
        foreach (var second in rows.Where(r => r.Name.EndsWith("-s1", StringComparison.Ordinal)))
        {
            string firstName = second.Name == "best-s1" ? best ?? "" : second.Name[..^3];
            if (rows.FirstOrDefault(r => r.Name == firstName) is { } first) yield return (firstName, first.Fd, second.Fd);
        }
    }

    private static List<(double K, double Ratio)> BoundTable(PipelineFolder c)
    {
        if (!File.Exists(c.PathOf(StudySteps.Bound))) return [];
        return BoundFile.Load(c.PathOf(StudySteps.Bound)).Table.Select(r => ((double)r.K, r.Ratio)).ToList();
    }

    /// <summary>The commands a variant's steps ran, in order (from their completion markers).</summary>
    private List<string> Commands(PipelineFolder c, StudyVariant v)
    {
        var names = new List<string> { "train", "sample", "eval" };
        names.AddRange(Enumerable.Range(0, o.SeriesPoints).SelectMany(i => new[] { $"series-{i}-sample", $"series-{i}-eval" }));
        var list = new List<string>();
        if (v.Kind == VariantKind.Clusters && c.Marker($"clusters/{StudyVariant.ClusterName(v.K!.Value)}")?["summary"]?["command"] is JsonNode cl) list.Add(cl.GetValue<string>());
        foreach (var n in names)
            if (c.Marker(StudySteps.StepName(v, n))?["summary"]?["command"] is JsonNode cmd) list.Add(cmd.GetValue<string>());
        return list;
    }

    private void WriteCommands(PipelineFolder c, StudyVariant v) =>
        AtomicFile.WriteAllBytes(c.PathOf(Path.Combine(v.Folder, "commands.txt")), Encoding.UTF8.GetBytes(string.Join('\n', Commands(c, v)) + "\n"), overwrite: true);
}
