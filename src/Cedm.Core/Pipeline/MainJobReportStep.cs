using System.Globalization;
using System.Text.Json.Nodes;
using Cedm.Clustering;
using Cedm.Clustering.Bounds;
using Cedm.Data;
using Cedm.Imaging.Png;
using Cedm.IO;
using Cedm.Diffusion.Training;
using Cedm.Reporting;
using Cedm.Stages;

namespace Cedm.Pipeline;

/// <summary>
/// The last step of `cedm run`: report.html, one self-contained page built only from the files the earlier steps
/// wrote (so it can be rebuilt after replacing any of them): the data, the utilisation curve with K_UB, the
/// training loss, real and generated images side by side for every cluster, the metrics and the options.
/// </summary>
public sealed class MainJobReportStep(MainJobOptions options) : ISummaryStep
{
    public string Name => "report";

    public string Title => "report.html";

    public double Weight => 0.2;

    public JsonObject? Run(PipelineFolder c, IStageObserver progress)
    {
        var o = options;
        var data = DataSource.Load(o.Source);
        var report = new HtmlReport($"cedm run: {data.Name}");
        var rng = new Random(o.Seed);

        report.Heading("Data").Paragraph(string.Create(CultureInfo.InvariantCulture,
            $"{data.Count:N0} images of {data.Height}×{data.Width}×{data.Channels}; {(data.Labels is null ? "no labels" : $"{data.LabelCounts().Count} labels (used only for scores, never for conditioning)")}."));
        report.Image(Png(data, ImageGrid.Sample(Enumerable.Range(0, data.Count).ToArray(), 32, rng), 16), "random real images", 16 * (data.Width * 2 + 2));
        progress.Progress(0.2);

        report.Heading("How many clusters");
        if (File.Exists(c.PathOf(MainJobPlan.Bound)))
        {
            var bound = BoundFile.Load(c.PathOf(MainJobPlan.Bound));
            var table = bound.Table.Select(r => (K: (double)r.K, Used: (double)r.Utilized, r.Ratio)).OrderBy(r => r.K).ToList();
            int kub = bound.KUpper;
            string stop = bound.Stop switch
            {
                BoundStop.Threshold => $"the doubling stopped where r(K) first fell below τ{(bound.Refined ? " and a grid refined the bound" : "")}",
                BoundStop.DataCap => $"the doubling reached the data cap (K ≤ {bound.DataCapK}, 50 images per cluster) without r(K) < τ, so K_UB is a lower estimate of the bound",
                BoundStop.TimeBudget => $"the search's time budget ended it{(bound.Crossed ? " before the grid finished" : " before r(K) fell below τ, so K_UB is a lower estimate of the bound")}",
                _ => "the doubling reached the --max-k cap",
            };
            report.Paragraph(string.Create(CultureInfo.InvariantCulture,
                $"TEMI was trained at each K below on {bound.Rows:N0} of the {Math.Max(bound.DataRows, bound.Rows):N0} images; K passes when the share of clusters that receive at least one image (K_used / K) stays at or above the threshold τ = {bound.Threshold:0.###}; {stop}. K_UB = {kub}. " +
                $"The run conditions on K = {MainJobPlan.ChosenK(c, o)}: about K_UB / 3 (the C-EDM paper's best K lay well below its bound), at most one cluster per 2 000 images the {o.TrainMinutes:0.#}-minute training shows the model (~{o.ExpectedTrainImages / 1000:0} kimg) and per 50 training images{(o.MaxK is int cap ? $", and at most --max-k {cap}" : "")}."));
            double kMin = table.Min(r => r.K), kMax = table.Max(r => r.K);
            report.Svg(SvgChart.Render(new LineChart("Utilisation ratio over K", "K", "K_used / K",
                [new ChartSeries("r(K)", table.Select(r => (r.K, r.Ratio)).ToList()), new ChartSeries($"τ = {bound.Threshold:0.###}", [(kMin, bound.Threshold), (kMax, bound.Threshold)])],
                [new ChartMarker(kub, $"K_UB = {kub}")], LogX: true, YMin: Math.Floor(Math.Min(bound.Threshold, table.Min(r => r.Ratio)) * 10 - 1) / 10, YMax: 1.02)));
            report.Table(["K", "utilised", "ratio"], table.Select(r => (IReadOnlyList<string>)[F(r.K, "0"), F(r.Used, "0"), F(r.Ratio, "0.000")]));
        }
        else report.Paragraph($"K = {o.K} was given; no bound search was run.");
        progress.Progress(0.4);

        var clusters = ClusterAssignment.Load(c.PathOf(MainJobPlan.Clusters));
        report.Heading("Clusters").Paragraph(string.Create(CultureInfo.InvariantCulture,
            $"{clusters.Method} with K = {clusters.K}: {clusters.Utilized} clusters used (ratio {clusters.Ratio:0.###}); mean confidence {clusters.Confidence.Average(v => (double)v):0.###}."));

        if (ClusterTreeSection(c.PathOf(MainJobPlan.Clusters), clusters, data) is { } drawing)
            report.Heading("Cluster tree", 3).Paragraph(
                $"The {clusters.Method} tree above the {clusters.K} clusters, root first; each node with its images and, from the labels, its two most common classes (labels describe the tree, they never shaped it).")
                .Preformatted(drawing);

        var log = TrainingLog(c.PathOf(MainJobPlan.Train));
        report.Heading("Training");
        if (log.Count > 0)
        {
            report.Paragraph(string.Create(CultureInfo.InvariantCulture,
                $"{log[^1].Kimg:0.##} kimg in {log[^1].Seconds / 60:0.#} min ({log.Average(l => l.ImagesPerSecond):0} img/s on average); EDM loss (σ-weighted, summed over pixels) in the last interval {log[^1].Loss:0.####}."));
            report.Svg(SvgChart.Render(new LineChart("Training loss", "thousand images seen", "EDM loss", [new ChartSeries("loss", log.Select(l => (l.Kimg, l.Loss)).ToList())])));
        }
        progress.Progress(0.6);

        report.Heading("Real and generated images per cluster").Paragraph(
            "For every cluster used: images of the real data in that cluster (left) and images generated with that cluster as the condition (right).");
        var sheet = Npy.Read(c.PathOf(MainJobPlan.ClusterSheet));
        var sheetClusters = Npy.Read(c.PathOf(MainJobPlan.ClusterSheet.Replace(".npy", "_clusters.npy"))).ToInt64();
        var generated = AsDataset("generated", sheet);
        foreach (var cluster in sheetClusters.Distinct().OrderByDescending(id => clusters.Sizes[(int)id]))
        {
            var realIdx = Enumerable.Range(0, clusters.Count).Where(i => clusters.Ids[i] == cluster).ToArray();
            var genIdx = Enumerable.Range(0, sheetClusters.Length).Where(i => sheetClusters[i] == cluster).ToArray();
            int cols = Math.Max(1, Math.Min(4, genIdx.Length));
            report.Figures(
            [
                ($"cluster {cluster}: real ({clusters.Sizes[(int)cluster]:N0} images)", Png(data, ImageGrid.Sample(realIdx, genIdx.Length, rng), cols)),
                ($"cluster {cluster}: generated", Png(generated, genIdx, cols)),
            ], width: null);
        }
        string byDepthRecord = c.PathOf(Path.ChangeExtension(MainJobPlan.ByDepth, ".json"));
        if (File.Exists(c.PathOf(MainJobPlan.ByDepthGrid)) && File.Exists(byDepthRecord))
        {
            var record = JsonNode.Parse(File.ReadAllText(byDepthRecord))!;
            string cluster = record["cluster"]?.GetValue<string>() ?? "?";
            report.Heading("Samples by depth").Paragraph(
                $"The network was conditioned on each cluster's root-to-leaf path in the tree. One row per node on the path to the leaf of {cluster.Replace("path:", "cluster ", StringComparison.Ordinal)}, root (top, the whole mixture) to leaf (bottom); " +
                "the same seeds in every column, so down a column an image changes only through its condition. A node's row draws a leaf under it by the leaves' sizes (docs/hierarchy.md).")
                .Image(File.ReadAllBytes(c.PathOf(MainJobPlan.ByDepthGrid)), "samples by depth");
        }
        progress.Progress(0.8);

        report.Heading("Metrics");
        if (File.Exists(c.PathOf(MainJobPlan.Metrics)))
        {
            var metrics = EvalReport.Load(c.PathOf(MainJobPlan.Metrics));
            report.Table(["metric", "value"], metrics.Numbers().Select(m => (IReadOnlyList<string>)[m.Key, F(m.Value, "0.####")]));
            if (File.Exists(c.PathOf("samples/samples.png")))
                report.Paragraph("The generated images the metrics were computed on (first rows):").Image(File.ReadAllBytes(c.PathOf("samples/samples.png")), "generated samples");
        }
        if (File.Exists(c.PathOf(MainJobPlan.Novelty))) NoveltySection(report, c.PathOf(MainJobPlan.Novelty));
        report.Heading("Options and commands");
        report.Json("run.json", JsonNode.Parse(o.ToJson()));
        var commands = new JsonObject();
        foreach (var step in MainJobPlan.For(o).OfType<StageStep>())
            if (c.Marker(step.Name)?["summary"]?["command"] is JsonNode cmd) commands[step.Name] = cmd.DeepClone();
        report.Json("the cedm commands each step ran (re-run or replace any of them by hand)", commands);
        if (File.Exists(c.PathOf(Path.Combine(MainJobPlan.Train, RunConfig.FileName))))
            report.Json("training config.json", RunConfig.Load(c.PathOf(MainJobPlan.Train)).ToJsonNode());
        report.Save(c.PathOf(MainJobPlan.Report));
        return new JsonObject { ["report"] = c.PathOf(MainJobPlan.Report) };
    }

    /// <summary>
    /// New images or copies? The memorisation check's numbers (docs/data.md) and its grid of the samples closest to a
    /// training image above those training images.
    /// </summary>
    private static void NoveltySection(HtmlReport report, string path)
    {
        var m = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        double V(string key) => m[key]!.GetValue<double>();
        bool flagged = m["memorisation_flagged"]!.GetValue<bool>();
        report.Heading("Memorisation").Paragraph(string.Create(CultureInfo.InvariantCulture,
            $"For every sample, the distance to its nearest training image in the evaluator's feature space ({m["evaluator"]}), against the same distance for {V("memorisation_n_real"):0} held-out images ({m["real_source"]}) the model never saw. " +
            $"{V("memorisation_share") * 100:0.#} % of the samples are closer to a training image than the closest {V("memorisation_expected_share") * 100:0} % of held-out images are (threshold {V("memorisation_threshold"):0.###}); " +
            $"about {V("memorisation_expected_share") * 100:0} % is what new images give, and at twice that the check flags memorisation: {(flagged ? "FLAGGED" : "not flagged")}. " +
            $"Median nearest-training distance: samples {V("memorisation_nn_median_samples"):0.###}, held-out images {V("memorisation_nn_median_real"):0.###}. " +
            $"FD against the held-out images: {V("fd"):0.##}."));
        if (m["memorisation_grid"]?.GetValue<string>() is { } grid && File.Exists(grid))
            report.Paragraph("The samples closest to a training image (top) above those training images (bottom):").Image(File.ReadAllBytes(grid), "closest sample / training pairs");
    }

    /// <summary>The drawing of the cluster folder's tree (treevae.json or agglo's tree.json), or null when it has none.</summary>
    private static string? ClusterTreeSection(string dir, ClusterAssignment clusters, ImageDataset data)
    {
        if (!File.Exists(Path.Combine(dir, Clustering.TreeVae.TreeVaeClusterer.TreeFile)) && !File.Exists(Path.Combine(dir, ClusterTree.FileName))) return null;
        var tree = ConditionSources.LoadTree(dir, ConditionSources.FromAssignment(clusters, dir));
        return ClusterTreeText.Draw(tree, clusters.Ids, data.Labels?.Length == clusters.Count ? data.Labels : null, data.LabelNames);
    }

    private sealed record LogLine(double Kimg, double Loss, double ImagesPerSecond, double Seconds);

    private static List<LogLine> TrainingLog(string runDir) => !File.Exists(Path.Combine(runDir, TrainingRun.LogFile)) ? [] :
        TrainingRun.ReadLog(runDir).Where(n => n["loss"] != null && n["img_per_s"] != null)
            .Select(n => new LogLine(n["kimg"]!.GetValue<double>(), n["loss"]!.GetValue<double>(), n["img_per_s"]!.GetValue<double>(), n["seconds"]!.GetValue<double>()))
            .ToList();

    private static ImageDataset AsDataset(string name, NpyArray a) =>
        new(name, a.As<byte>(), a.Shape[0], a.Shape[1], a.Shape[2], a.Shape.Length == 4 ? a.Shape[3] : 1);

    private static byte[] Png(ImageDataset d, IReadOnlyList<int> indices, int columns)
    {
        var rows = indices.Chunk(columns).Select(r => (IReadOnlyList<int>)r).ToList();
        return PngEncoder.Encode(ImageGrid.Compose(d, rows, new GridOptions { Scale = 2 }));
    }

    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
}
