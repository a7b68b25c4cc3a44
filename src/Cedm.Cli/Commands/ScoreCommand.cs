using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Cedm.Clustering;
using Cedm.Data;
using Cedm.IO;
using Cedm.Metrics.Clustering;

namespace Cedm.Cli.Commands;

/// <summary>
/// `cedm score &lt;pred&gt; &lt;true&gt;`: NMI, AMI (the paper's ANMI), ARI and ACC of a clustering against labels
/// (cli.md "Commands", JSON keys nmi, ami, ari, acc, k_pred, k_true; spec §6.4).
/// </summary>
public static class ScoreCommand
{
    public static Command Build()
    {
        var pred = new Argument<string>("pred")
        {
            Description = "Predicted cluster ids: an integer .npy shaped (N,), or a `cedm cluster` output folder (its ids.npy).",
        };
        var truth = new Argument<string>("true")
        {
            Description = $"True labels: an integer .npy shaped (N,), or a labelled source whose labels are used ({DataSource.Syntax}).",
        };
        var json = GlobalOptions.Json();
        var cmd = new Command("score", "Clustering scores against true labels: NMI, AMI (ANMI), ARI, ACC (Hungarian; majority re-map when over-clustered).")
        {
            pred, truth, json,
        };
        cmd.SetAction(parse =>
        {
            string predPath = parse.GetValue(pred)!, truePath = parse.GetValue(truth)!;
            var predLabels = ReadPredicted(predPath);
            var trueLabels = ReadTrue(truePath);
            if (predLabels.Length != trueLabels.Length)
                throw new UsageException($"{predPath} has {predLabels.Length} labels but {truePath} has {trueLabels.Length}; they must label the same items");
            var scores = ClusteringScores.Compute(predLabels, trueLabels);
            var w = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json)) w.WriteLine(ToJson(scores));
            else WriteTable(scores, predPath, truePath, w);
            return 0;
        });
        return cmd;
    }

    /// <summary>Ids from a cluster folder or an .npy file.</summary>
    private static long[] ReadPredicted(string path) =>
        Directory.Exists(path) ? ClusterAssignment.Load(path).Ids.Select(i => (long)i).ToArray() : ReadLabelFile(path);

    /// <summary>Labels from an .npy file, or from a data source (e.g. fashion-mnist:test) when no such file exists.</summary>
    private static long[] ReadTrue(string text)
    {
        if (File.Exists(text) || text.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)) return ReadLabelFile(text);
        var dataset = DataSource.Load(text);
        return dataset.Labels ?? throw new UsageException($"{text}: this source has no labels to score against");
    }

    private static long[] ReadLabelFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file or folder", path);
        var array = Npy.Read(path);
        string shape = "(" + string.Join(", ", array.Shape) + (array.Shape.Length == 1 ? ",)" : ")");
        if (array.DType.IsFloat())
            throw new UsageException($"{path}: labels must be integers, got {array.DType} values shaped {shape}");
        if (array.Shape.Length != 1)
            throw new UsageException($"{path}: labels must be a vector shaped (N,), got shape {shape}");
        if (array.Count == 0) throw new UsageException($"{path}: the file holds no labels (shape {shape})");
        return array.ToInt64();
    }

    private static string ToJson(ClusteringScores s) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["nmi"] = s.Nmi,
        ["ami"] = s.Ami,
        ["ari"] = s.Ari,
        ["acc"] = s.Acc,
        ["k_pred"] = s.KPred,
        ["k_true"] = s.KTrue,
        ["n"] = s.N,
    });

    private static void WriteTable(ClusteringScores s, string predPath, string truePath, TextWriter w)
    {
        w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s.N} items: {s.KPred} predicted clusters ({predPath}) vs {s.KTrue} classes ({truePath})"));
        w.WriteLine();
        foreach (var (name, value, what) in new[]
                 {
                     ("NMI", s.Nmi, "normalised mutual information (arithmetic mean)"),
                     ("AMI", s.Ami, "adjusted mutual information (the paper's ANMI)"),
                     ("ARI", s.Ari, "adjusted Rand index"),
                     ("ACC", s.Acc, "accuracy after the Hungarian matching"),
                 })
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}  {value,8:F4}  {what}"));
    }
}
