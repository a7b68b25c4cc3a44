using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cedm.Clustering;
using Cedm.Clustering.Temi;
using Cedm.IO;
using Cedm.Tensors;
using Spectre.Console;

namespace Cedm.Cli.Commands;

/// <summary>
/// `cedm cluster &lt;feats.npy&gt; --method kmeans|gmm|agglo|temi --k K --out &lt;dir&gt;` (cli.md "Commands"): validates the
/// features, fits, and writes ids.npy / probs.npy (soft methods) / confidence.npy / clusters.json, the fitted model
/// (model.safetensors), options.json and, for agglo, tree.json.
/// </summary>
public static class ClusterCommand
{
    public static readonly string[] Methods = ["kmeans", "gmm", "agglo", "temi"];

    public static Command Build()
    {
        var features = new Argument<string>("features") { Description = "Features .npy, float32 or float64, shape (N, D)." };
        var method = new Option<string>("--method") { Description = "kmeans | gmm | agglo | temi.", DefaultValueFactory = _ => "kmeans" };
        method.AcceptOnlyFromAmong(Methods);
        var k = new Option<int>("--k") { Description = "Number of clusters K, 1 <= K <= N.", Required = true };
        var output = new Option<string>("--out") { Description = "Output folder.", Required = true };
        var seed = GlobalOptions.Seed();
        var nInit = new Option<int?>("--n-init") { Description = "Restarts keeping the best fit (kmeans, gmm). Default: 1." };
        var maxIter = new Option<int?>("--max-iter") { Description = "Iteration limit. Default: 300 (kmeans), 100 (gmm)." };
        var tol = new Option<double?>("--tol") { Description = "Tolerance. Default: 1e-4 x mean feature variance on the centre shift (kmeans), 1e-3 on the per-sample log-likelihood change (gmm)." };
        var cosine = new Option<bool>("--cosine") { Description = "L2-normalise the rows first (kmeans, agglo)." };
        var covariance = new Option<string>("--covariance") { Description = "GMM covariance: full | diag.", DefaultValueFactory = _ => "full" };
        covariance.AcceptOnlyFromAmong("full", "diag");
        var preset = new Option<string>("--preset") { Description = "TEMI settings: cpu (the default: 8 heads 64/32, 30 epochs; see TemiOptions) or spec (16 heads 512/256, 100 epochs; spec §4.5).", DefaultValueFactory = _ => "cpu" };
        preset.AcceptOnlyFromAmong("spec", "cpu");
        var beta = new Option<double?>("--beta") { Description = "TEMI beta of the PMI loss. Default: 0.6 (1 = weighted PMI, the lower-bound runs)." };
        var heads = new Option<int?>("--heads") { Description = "TEMI heads. Default: the preset's (spec 16, cpu 8)." };
        var epochs = new Option<int?>("--epochs") { Description = "TEMI epochs (warm-up scaled with them). Default: the preset's (spec 100, cpu 30)." };
        var knn = new Option<int?>("--knn") { Description = "TEMI neighbours a partner is drawn from. Default: 50." };
        var force = GlobalOptions.Force();
        var json = GlobalOptions.Json();
        var cmd = new Command("cluster", "Cluster features into K clusters (ids, confidence, probabilities when soft, p(c), utilisation).")
        {
            features, method, k, output, seed, nInit, maxIter, tol, cosine, covariance, preset, beta, heads, epochs, knn, force, json,
        };
        cmd.SetAction(parse =>
        {
            string path = parse.GetValue(features)!, outDir = parse.GetValue(output)!, m = parse.GetValue(method)!;
            int kk = parse.GetValue(k);
            bool overwrite = parse.GetValue(force);
            if (parse.GetValue(nInit) is < 1) throw new UsageException($"--n-init must be at least 1, got {parse.GetValue(nInit)}");
            if (parse.GetValue(maxIter) is < 1) throw new UsageException($"--max-iter must be at least 1, got {parse.GetValue(maxIter)}");
            if (parse.GetValue(tol) is { } t && !(t >= 0 && double.IsFinite(t))) throw new UsageException($"--tol must be a finite number >= 0, got {t}");
            if (kk < 1) throw new UsageException($"--k must be at least 1, got {kk}");
            var x = ReadFeatures(path);
            int n = x.Shape[0];
            if (kk > n) throw new UsageException($"--k {kk} is larger than the number of points in {path} (N = {n})");
            if (!overwrite && Directory.Exists(outDir) && OutputFiles.Any(f => File.Exists(Path.Combine(outDir, f))))
                throw new UsageException($"--out: {outDir} already holds cluster outputs; pass --force to overwrite them");

            var temi = m == "temi" ? TemiOptionsFrom(parse.GetValue(preset)!, parse.GetValue(beta), parse.GetValue(heads), parse.GetValue(epochs), parse.GetValue(knn)) : null;
            var clusterer = Create(m, kk, parse.GetValue(nInit), parse.GetValue(maxIter), parse.GetValue(tol), parse.GetValue(cosine), parse.GetValue(covariance)!, temi);
            var rng = new Rng(parse.GetValue(seed));
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var assignment = WithProgress($"{m} K={kk}", p => clusterer.Fit(x, rng, p));
            double seconds = sw.Elapsed.TotalSeconds;

            Directory.CreateDirectory(outDir);
            assignment.Save(outDir, overwrite);
            SaveModel(clusterer, outDir, overwrite);
            var options = new JsonObject
            {
                ["features"] = Path.GetFullPath(path), ["method"] = m, ["k"] = kk, ["seed"] = parse.GetValue(seed),
                ["n"] = n, ["d"] = x.Shape[1], ["seconds"] = seconds, ["fit"] = assignment.Options?.DeepClone(),
            };
            AtomicFile.WriteAllBytes(Path.Combine(outDir, "options.json"),
                JsonSerializer.SerializeToUtf8Bytes(options, new JsonSerializerOptions { WriteIndented = true }), overwrite: true);

            var w = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                var doc = assignment.ToJson();
                doc["out"] = outDir;
                doc["seconds"] = seconds;
                w.WriteLine(doc.ToJsonString());
            }
            else
                w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{m}: {n} points -> K={kk}, {assignment.Utilized} utilised (ratio {assignment.Ratio:F3}), mean confidence {assignment.Confidence.Average(v => (double)v):F3}, {seconds:F2} s; wrote {outDir}"));
            return 0;
        });
        return cmd;
    }

    private static readonly string[] OutputFiles =
        [ClusterAssignment.IdsFile, ClusterAssignment.JsonFile, ClusterAssignment.ConfidenceFile, ClusterModels.FileName, ClusterTree.FileName, "options.json"];

    /// <summary>The method switch: one case per method (TEMI adds one).</summary>
    /// <summary>The TEMI preset with the command-line overrides, validated (usage errors exit 2).</summary>
    private static TemiOptions TemiOptionsFrom(string preset, double? beta, int? heads, int? epochs, int? knn)
    {
        var o = TemiOptions.FromPreset(preset);
        if (beta is double b) o = o with { Beta = b };
        if (heads is int h) o = o with { Heads = h };
        if (knn is int nn) o = o with { Neighbours = nn };
        if (epochs is int e)
        {
            if (e < 1) throw new UsageException($"--epochs must be at least 1, got {e}");
            o = o with { Epochs = e, WarmupEpochs = e * o.WarmupEpochs / o.Epochs };
        }
        try { o.Validate(); }
        catch (ArgumentException ex) { throw new UsageException(ex.Message, ex); }
        return o;
    }

    private static IClusterer Create(string method, int k, int? nInit, int? maxIter, double? tol, bool cosine, string covariance, TemiOptions? temi) => method switch
    {
        "kmeans" => new KMeans(new KMeansOptions
        {
            K = k, NInit = nInit ?? 1, MaxIter = maxIter ?? 300, Tol = tol ?? 1e-4, Cosine = cosine,
        }),
        "gmm" => new GaussianMixture(new GaussianMixtureOptions
        {
            K = k, NInit = nInit ?? 1, MaxIter = maxIter ?? 100, Tol = tol ?? 1e-3,
            Covariance = covariance == "diag" ? CovarianceType.Diag : CovarianceType.Full,
        }),
        "agglo" => new Agglomerative(new AgglomerativeOptions { K = k, Cosine = cosine }),
        "temi" => new TemiClusterer(k, temi ?? TemiOptions.CpuDefault()),
        _ => throw new UsageException($"--method: unknown method {method}; expected one of {string.Join(", ", Methods)}"),
    };

    private static void SaveModel(IClusterer clusterer, string dir, bool overwrite)
    {
        string modelPath = Path.Combine(dir, ClusterModels.FileName);
        switch (clusterer)
        {
            case KMeans km: km.Model!.Save(modelPath, overwrite); break;
            case GaussianMixture g: g.Result!.Model.Save(modelPath, overwrite); break;
            case TemiClusterer t: t.LastModel!.Save(modelPath, overwrite); break;
            case Agglomerative a:
                a.Model!.Save(modelPath, overwrite);
                a.Tree!.Save(Path.Combine(dir, ClusterTree.FileName), overwrite);
                break;
        }
    }

    /// <summary>Reads (N, D) float32/float64 features; every failure names the file (exit code 2).</summary>
    public static Tensor ReadFeatures(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such features file", path);
        if (new FileInfo(path).Length == 0) throw new InvalidDataException($"{path}: empty file (expected a .npy of features (N, D))");
        NpyArray a;
        try { a = Npy.Read(path); }
        catch (Exception e) when (e is not InvalidDataException and not FileNotFoundException)
        {
            throw new InvalidDataException($"{path}: not a readable .npy file ({e.Message})", e);
        }
        if (a.DType is not (DType.F32 or DType.F64))
            throw new InvalidDataException($"{path}: features must be float32 or float64, got {a.DType}");
        if (a.Shape.Length != 2)
            throw new InvalidDataException($"{path}: features must have shape (N, D), got rank {a.Shape.Length} ({string.Join(", ", a.Shape)})");
        if (a.Shape[0] < 1 || a.Shape[1] < 1)
            throw new InvalidDataException($"{path}: no features (shape ({a.Shape[0]}, {a.Shape[1]}))");
        if (a.DType == DType.F64)
        {
            var dv = a.As<double>();
            for (int i = 0; i < dv.Length; i++)
                if (!double.IsFinite(dv[i]) || !float.IsFinite((float)dv[i]))
                    throw new InvalidDataException($"{path}: non-finite value {dv[i]} at row {i / a.Shape[1]}, column {i % a.Shape[1]} (as float32)");
        }
        var data = a.ToFloat32();
        int bad = FeatureMatrix.FirstNonFinite(data);
        if (bad >= 0) throw new InvalidDataException($"{path}: non-finite value {data[bad]} at row {bad / a.Shape[1]}, column {bad % a.Shape[1]}");
        return new Tensor(data, a.Shape[0], a.Shape[1]);
    }

    private static ClusterAssignment WithProgress(string label, Func<IProgress<double>?, ClusterAssignment> fit)
    {
        if (Console.IsErrorRedirected) return fit(null);
        ClusterAssignment? result = null;
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) }).Progress().Start(ctx =>
        {
            var task = ctx.AddTask(label, maxValue: 1.0);
            result = fit(new Progress<double>(p => task.Value = Math.Min(1.0, p)));
            task.Value = 1.0;
        });
        return result!;
    }
}
