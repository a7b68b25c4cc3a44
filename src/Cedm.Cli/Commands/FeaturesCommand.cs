using System.CommandLine;
using Cedm.Features;
using Cedm.Features.Ssl;
using Cedm.Stages;

namespace Cedm.Cli.Commands;

/// <summary>`cedm features &lt;source&gt; --extractor &lt;spec&gt; --out feats.npy` (cli.md "Commands"): <see cref="FeatureStage"/>.</summary>
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
        var cmd = new Command("features", "Compute features (N, D) of a source's images for clustering and evaluation. Under mpirun the images are split over the ranks (docs/distributed.md).")
        {
            source, extractor, output, fitOn, model, minutes, quick, resolution, pad, seed, force, json,
        };
        cmd.SetAction(parse =>
        {
            int seedValue = parse.GetValue(seed);
            double budget = parse.GetValue(minutes);
            if (!(budget > 0)) throw new UsageException($"--minutes must be positive, got {budget}");
            var request = new FeatureRequest
            {
                Source = parse.GetValue(source)!, Extractor = parse.GetValue(extractor)!, Out = parse.GetValue(output)!,
                FitOn = parse.GetValue(fitOn), Model = parse.GetValue(model), Transform = SourceOptions.Transform(parse, resolution, pad),
                Ssl = parse.GetValue(quick) ? SslOptions.Quick(seedValue) : new SslOptions { Minutes = budget, Seed = seedValue },
                Seed = seedValue, Force = parse.GetValue(force),
            };
            var err = parse.InvocationConfiguration.Error;
            var r = ProgressDisplay.Run("features", err, observer => FeatureStage.Run(request, observer));
            var w = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json)) w.WriteLine(r.Info.ToJsonString());
            else w.WriteLine($"wrote {r.Path} ({r.Rows} x {r.Dimension}, {r.ExtractorName}, {r.Seconds:F1} s){(r.FittedModel is not null ? $" and {r.FittedModel}" : "")}");
            return 0;
        });
        return cmd;
    }
}
