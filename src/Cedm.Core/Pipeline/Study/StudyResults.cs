using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cedm.Clustering;
using Cedm.Diffusion.Training;
using Cedm.Stages;

namespace Cedm.Pipeline.Study;

/// <summary>
/// One variant's line of the study table. K is the requested cluster count (the label count for the label model,
/// null for the unconditional one), KUsed the conditions the network saw (non-empty clusters), Ratio = KUsed / K
/// (spec §5.1), Kimg the training images actually seen, Seconds its train + sample + eval time.
/// </summary>
/// NMI and ACC score the clustering a clusters variant conditions on against the source's labels (spec §6.4), when it has labels.
public sealed record StudyRow(string Name, string Kind, int? K, int? KUsed, double? Ratio, double Kimg, double Fd, double Precision, double Recall,
    double Density, double Coverage, double? Kid, double Seconds, double TrainSeconds, double? Nmi = null, double? Acc = null);

/// <summary>One point of a sample-efficiency curve: a checkpoint of <see cref="Variant"/> after <see cref="Kimg"/> kimg.</summary>
public sealed record SeriesPoint(string Variant, double Kimg, double Fd, double Precision, double Recall);

/// <summary>Everything study.json holds.</summary>
public sealed record StudyResult(StudyOptions Options, int? KUb, string Evaluator, string? BestVariant, IReadOnlyList<StudyRow> Rows, IReadOnlyList<SeriesPoint> Series);

/// <summary>Reads the study's files into a <see cref="StudyResult"/> and writes study.json and study.csv.</summary>
public static class StudyResults
{
    public const string JsonFile = "study.json", CsvFile = "study.csv";

    public static double ReadMetric(string metricsPath, string key) => EvalReport.Load(metricsPath).Number(key);

    public static StudyResult Collect(PipelineFolder c, StudyOptions o, StudySteps steps, SourceFacts source)
    {
        var variants = steps.Variants(c);
        var labels = source.LabelCount >= 2 ? Data.DataSource.Load(o.Source).Labels : null;
        var rows = variants.Select(v => Row(c, v, source, labels)).ToList();
        var best = StudyPlan.BestK(variants.Zip(rows, (v, r) => (v, r.Fd)));
        var series = new List<SeriesPoint>();
        var targets = StudyPlan.SeriesTargets(o);
        foreach (var v in steps.SeriesVariants(c, variants))
        {
            var ckpts = StudySteps.CheckpointFiles(c.PathOf(StudySteps.TrainDir(v)));
            for (int i = 0; i < targets.Count - 1; i++)
            {
                string m = c.PathOf(StudySteps.SeriesMetrics(v, i));
                if (!File.Exists(m)) continue;
                // The kimg of the checkpoint that was sampled (recorded by `cedm sample` in samples.json).
                var info = SampleRecord.Load(c.PathOf(StudySteps.SeriesSamples(v, i)));
                long nimg = ckpts.FirstOrDefault(f => Path.GetFileName(f.Path) == Path.GetFileName(info.Checkpoint)).Nimg;
                series.Add(new SeriesPoint(v.Name, (nimg > 0 ? nimg : targets[i]) / 1000.0, ReadMetric(m, "fd"), ReadMetric(m, "precision"), ReadMetric(m, "recall")));
            }
            var row = rows.First(r => r.Name == v.Name);
            series.Add(new SeriesPoint(v.Name, row.Kimg, row.Fd, row.Precision, row.Recall));
        }
        string evaluator = File.Exists(c.PathOf(StudySteps.MetricsFile(variants[0]))) ? EvalReport.Load(c.PathOf(StudySteps.MetricsFile(variants[0]))).Evaluator : "?";
        return new StudyResult(o, StudySteps.Kub(c, o), evaluator, best?.Name, rows, series);
    }

    private static StudyRow Row(PipelineFolder c, StudyVariant v, SourceFacts source, long[]? labels)
    {
        string metrics = c.PathOf(StudySteps.MetricsFile(v));
        double M(string key) => ReadMetric(metrics, key);
        int? k = null, used = null;
        double? ratio = null, nmi = null, acc = null;
        if (v.Kind == VariantKind.Labels) { k = used = source.LabelCount; ratio = 1; }
        if (v.Kind == VariantKind.Clusters)
        {
            var clusters = ClusterAssignment.Load(c.PathOf(StudySteps.ClustersDir(v)));
            k = clusters.K;
            used = clusters.Utilized;
            ratio = clusters.Ratio;
            if (labels is not null && labels.Length == clusters.Count)
            {
                var scores = Metrics.Clustering.ClusteringScores.Compute(clusters.Ids.Select(i => (long)i).ToArray(), labels);
                (nmi, acc) = (scores.Nmi, scores.Acc);
            }
        }
        var pointer = Checkpoint.ReadPointer(c.PathOf(StudySteps.TrainDir(v)));
        double Seconds(string step) => c.Marker(StudySteps.StepName(v, step))?["seconds"]?.GetValue<double>() ?? 0;
        double kid = M("kid");
        return new StudyRow(v.Name, v.Kind.ToString().ToLowerInvariant(), k, used, ratio, pointer.CurNimg / 1000.0,
            M("fd"), M("precision"), M("recall"), M("density"), M("coverage"), double.IsFinite(kid) ? kid : null,
            Seconds("train") + Seconds("sample") + Seconds("eval"), pointer.Seconds, nmi, acc);
    }

    // A metric a step could not produce is NaN; written as "NaN" rather than failing the whole table.
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>study.json: options, k_ub, evaluator, best, variants (one row each) and series (sample efficiency).</summary>
    public static JsonObject ToJson(StudyResult r) => new()
    {
        ["options"] = JsonNode.Parse(r.Options.ToJson()),
        ["k_ub"] = r.KUb,
        ["evaluator"] = r.Evaluator,
        ["best"] = r.BestVariant,
        ["variants"] = JsonSerializer.SerializeToNode(r.Rows, Json),
        ["series"] = JsonSerializer.SerializeToNode(r.Series, Json),
    };

    public static readonly string[] CsvColumns =
        ["name", "kind", "k", "k_used", "ratio", "kimg", "fd", "precision", "recall", "density", "coverage", "kid", "seconds", "train_seconds", "nmi", "acc"];

    /// <summary>study.csv: one line per variant, invariant culture, empty cells for what a kind does not have.</summary>
    public static string ToCsv(IEnumerable<StudyRow> rows)
    {
        var sb = new StringBuilder(string.Join(',', CsvColumns)).Append('\n');
        foreach (var r in rows)
            sb.AppendJoin(',', [r.Name, r.Kind, N(r.K), N(r.KUsed), G(r.Ratio), G(r.Kimg), G(r.Fd), G(r.Precision), G(r.Recall), G(r.Density), G(r.Coverage),
                G(r.Kid), G(r.Seconds), G(r.TrainSeconds), G(r.Nmi), G(r.Acc)]).Append('\n');
        return sb.ToString();
    }

    public static void Write(string directory, StudyResult r)
    {
        var bytes = Encoding.UTF8.GetBytes(ToJson(r).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        Cedm.IO.AtomicFile.WriteAllBytes(Path.Combine(directory, JsonFile), bytes, overwrite: true);
        Cedm.IO.AtomicFile.WriteAllBytes(Path.Combine(directory, CsvFile), Encoding.UTF8.GetBytes(ToCsv(r.Rows)), overwrite: true);
    }

    private static string N(int? v) => v?.ToString(CultureInfo.InvariantCulture) ?? "";

    private static string G(double? v) => v is double d && double.IsFinite(d) ? d.ToString("R", CultureInfo.InvariantCulture) : "";
}
