using System.CommandLine;
using System.Text.Json.Nodes;
using Cedm.Data;
using Cedm.Features;
using Cedm.Features.Ssl;

namespace Cedm.Cli.Commands;

/// <summary>`cedm features &lt;source&gt; --extractor &lt;spec&gt; --out feats.npy` (cli.md "Commands").</summary>
public static class FeaturesCommand
{
    public static Command Build()
    {
        var source = SourceOptions.Source();
        var resolution = SourceOptions.Resolution();
        var pad = SourceOptions.Pad();
        var extractor = new Option<string>("--extractor") { Description = $"Feature extractor: {FeatureExtractors.Syntax}.", DefaultValueFactory = _ => "pca:64" };
        var output = new Option<string>("--out") { Description = "The features file to write (float32 (N, D) .npy); a .json side file and, for a fitted PCA, <name>.pca.safetensors go beside it.", Required = true };
        var fitOn = new Option<string?>("--fit-on") { Description = "Source to fit a fitted extractor (PCA) on. Default: the source itself." };
        var model = new Option<string?>("--model") { Description = "A saved extractor model to apply instead of fitting (e.g. feats.pca.safetensors)." };
        var minutes = new Option<double>("--minutes") { Description = "ssl: training budget in minutes (SimCLR on the source; the default keeps Fashion-MNIST under 15 minutes on 2 cores).", DefaultValueFactory = _ => SslOptions.DefaultMinutes };
        var quick = new Option<bool>("--quick") { Description = $"ssl: smoke-test budget (20 steps of 64 images, at most {SslOptions.QuickMinutes} min) instead of --minutes." };
        var seed = GlobalOptions.Seed();
        var force = GlobalOptions.Force();
        var json = GlobalOptions.Json();
        var cmd = new Command("features", "Compute features (N, D) of a source's images for clustering and evaluation.")
        {
            source, extractor, output, fitOn, model, minutes, quick, resolution, pad, seed, force, json,
        };
        cmd.SetAction(parse =>
        {
            string outPath = parse.GetValue(output)!, spec = parse.GetValue(extractor)!;
            bool overwrite = parse.GetValue(force);
            if (!outPath.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)) throw new UsageException($"--out: expected a .npy file name, got {outPath}");
            var outputs = new List<string> { outPath, FeatureFile.SidePath(outPath) };
            if (FeatureExtractors.Parse(spec) is ("ssl", "" or "quick")) outputs.Add(SslModelPath(outPath));
            foreach (var p in outputs)
                if (File.Exists(p) && !overwrite) throw new UsageException($"--out: {p} already exists; pass --force to overwrite it");
            string? modelPath = parse.GetValue(model);
            if (modelPath is not null && !File.Exists(modelPath)) throw new UsageException($"--model: {modelPath} does not exist");

            var transform = SourceOptions.Transform(parse, resolution, pad);
            string sourceText = parse.GetValue(source)!;
            var dataset = DataSource.Load(sourceText, transform);
            if (dataset.Count == 0) throw new UsageException($"{dataset.Name} has no images");
            string? fitSource = parse.GetValue(fitOn);
            bool fitted = false;
            double budget = parse.GetValue(minutes);
            if (!(budget > 0)) throw new UsageException($"--minutes must be positive, got {budget}");
            int seedValue = parse.GetValue(seed);
            var sslOptions = parse.GetValue(quick) ? SslOptions.Quick(seedValue) : new SslOptions { Minutes = budget, Seed = seedValue };
            var err = parse.InvocationConfiguration.Error;
            var context = new FeatureExtractorContext
            {
                ImageShape = (dataset.Height, dataset.Width, dataset.Channels),
                FitData = () => { fitted = true; return fitSource is null ? dataset : DataSource.Load(fitSource, transform); },
                ModelPath = modelPath,
                Seed = seedValue,
                Ssl = sslOptions,
                Log = line => err.WriteLine(line),
            };
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var fx = FeatureExtractors.Create(spec, context);
            var features = fx.Extract(dataset);

            string? savedModel = modelPath;
            if (fitted && fx is PcaFeatures pca)
            {
                savedModel = FeatureFile.ModelPath(outPath);
                pca.Save(savedModel, overwrite, new Dictionary<string, string> { ["fit_on"] = fitSource ?? sourceText });
            }
            if (fitted && fx is SslFeatures ssl)
            {
                savedModel = SslModelPath(outPath);
                ssl.Save(savedModel, overwrite);
            }
            var info = new JsonObject
            {
                ["extractor"] = spec,
                ["resolved"] = FeatureExtractors.Resolved(fx, savedModel),
                ["model"] = savedModel is null ? null : Path.GetFullPath(savedModel),
                ["source"] = sourceText,
                ["fit_on"] = fitted ? fitSource ?? sourceText : null,
                ["transform"] = new JsonObject { ["resolution"] = transform.Resolution, ["pad"] = transform.Pad },
                ["seed"] = parse.GetValue(seed),
                ["pixel_range"] = "0..1 (u/255), HWC order",
            };
            if (fx is SslFeatures { Report: { } r })
                info["ssl_training"] = new JsonObject
                {
                    ["steps"] = r.Steps, ["images_seen"] = r.ImagesSeen, ["final_loss"] = r.FinalLoss, ["seconds"] = r.Seconds,
                    ["stopped_by_time"] = r.StoppedByTime, ["minutes"] = sslOptions.Minutes, ["batch"] = sslOptions.BatchSize,
                };
            FeatureFile.Write(outPath, features, info, overwrite);
            var w = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json)) w.WriteLine(info.ToJsonString());
            else w.WriteLine($"wrote {outPath} ({features.Shape[0]} x {features.Shape[1]}, {fx.Name}, {clock.Elapsed.TotalSeconds:F1} s){(savedModel is not null && fitted ? $" and {savedModel}" : "")}");
            return 0;
        });
        return cmd;
    }

    /// <summary>Where a trained ssl encoder is saved next to the features: feats.npy → feats.ssl.safetensors.</summary>
    public static string SslModelPath(string npyPath) => Path.ChangeExtension(npyPath, ".ssl.safetensors");
}
