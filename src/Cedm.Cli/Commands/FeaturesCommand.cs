using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cedm.Data;
using Cedm.Features;

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
        var seed = GlobalOptions.Seed();
        var force = GlobalOptions.Force();
        var json = GlobalOptions.Json();
        var cmd = new Command("features", "Compute features (N, D) of a source's images for clustering and evaluation.")
        {
            source, extractor, output, fitOn, model, resolution, pad, seed, force, json,
        };
        cmd.SetAction(parse =>
        {
            string outPath = parse.GetValue(output)!, spec = parse.GetValue(extractor)!;
            bool overwrite = parse.GetValue(force);
            if (!outPath.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)) throw new UsageException($"--out: expected a .npy file name, got {outPath}");
            foreach (var p in new[] { outPath, FeatureFile.SidePath(outPath) })
                if (File.Exists(p) && !overwrite) throw new UsageException($"--out: {p} already exists; pass --force to overwrite it");
            string? modelPath = parse.GetValue(model);
            if (modelPath is not null && !File.Exists(modelPath)) throw new UsageException($"--model: {modelPath} does not exist");

            var transform = SourceOptions.Transform(parse, resolution, pad);
            string sourceText = parse.GetValue(source)!;
            var dataset = DataSource.Load(sourceText, transform);
            if (dataset.Count == 0) throw new UsageException($"{dataset.Name} has no images");
            string? fitSource = parse.GetValue(fitOn);
            bool fitted = false;
            var context = new FeatureExtractorContext
            {
                ImageShape = (dataset.Height, dataset.Width, dataset.Channels),
                FitData = () => { fitted = true; return fitSource is null ? dataset : DataSource.Load(fitSource, transform); },
                ModelPath = modelPath,
                Seed = parse.GetValue(seed),
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
            FeatureFile.Write(outPath, features, info, overwrite);
            var w = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json)) w.WriteLine(info.ToJsonString());
            else w.WriteLine($"wrote {outPath} ({features.Shape[0]} x {features.Shape[1]}, {fx.Name}, {clock.Elapsed.TotalSeconds:F1} s){(savedModel is not null && fitted ? $" and {savedModel}" : "")}");
            return 0;
        });
        return cmd;
    }
}
