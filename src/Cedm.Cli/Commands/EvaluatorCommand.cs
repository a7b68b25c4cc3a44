using System.CommandLine;
using System.Text.Json.Nodes;
using Cedm.Data;
using Cedm.Features.Evaluator;

namespace Cedm.Cli.Commands;

/// <summary>
/// `cedm evaluator train [fashion-mnist] --out weights.safetensors [--epochs E] [--seed S]`: (re)makes the
/// Fashion-MNIST evaluator classifier whose penultimate features define FD_fmnist (extractor `fmnist:&lt;weights&gt;`).
/// Trains on the source's train split, measures accuracy on its test split, and writes the weights with their
/// options and accuracy as metadata plus a JSON side file.
/// </summary>
public static class EvaluatorCommand
{
    public static Command Build()
    {
        var source = new Argument<string>("source") { Description = "Labelled source with train/test splits (only fashion-mnist is supported).", DefaultValueFactory = _ => "fashion-mnist" };
        var output = new Option<string>("--out") { Description = "The weights file to write (.safetensors); a .json side file goes beside it.", Required = true };
        var defaults = new FashionClassifierOptions();
        var epochs = new Option<int>("--epochs") { Description = "Passes over the 60k training images.", DefaultValueFactory = _ => defaults.Epochs };
        var batch = new Option<int>("--batch") { Description = "Mini-batch size.", DefaultValueFactory = _ => defaults.BatchSize };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate (cosine-decayed to 0).", DefaultValueFactory = _ => defaults.Lr };
        var seed = GlobalOptions.Seed();
        var force = GlobalOptions.Force();
        var json = GlobalOptions.Json();
        var train = new Command("train", "Train the evaluator classifier (>= 90% test accuracy) and save it.")
        {
            source, output, epochs, batch, lr, seed, force, json,
        };
        train.SetAction(parse =>
        {
            string outPath = parse.GetValue(output)!, src = parse.GetValue(source)!.Trim();
            bool overwrite = parse.GetValue(force);
            if (!outPath.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) throw new UsageException($"--out: expected a .safetensors file name, got {outPath}");
            foreach (var p in new[] { outPath, FashionEvaluatorFeatures.SidePath(outPath) })
                if (File.Exists(p) && !overwrite) throw new UsageException($"--out: {p} already exists; pass --force to overwrite it");
            if (!src.Equals("fashion-mnist", StringComparison.OrdinalIgnoreCase))
                throw new UsageException($"evaluator train: only fashion-mnist is supported, got {src}");
            var options = new FashionClassifierOptions(parse.GetValue(epochs), parse.GetValue(batch), parse.GetValue(lr), parse.GetValue(seed));
            try { options.Validate(); } catch (ArgumentException e) { throw new UsageException(e.Message); }
            var trainSet = DataSource.Load("fashion-mnist:train");
            var testSet = DataSource.Load("fashion-mnist:test");
            var err = parse.InvocationConfiguration.Error;
            var (model, report) = FashionClassifierTrainer.Train(trainSet, testSet, options, log: line => err.WriteLine(line));
            string? dir = Path.GetDirectoryName(Path.GetFullPath(outPath));
            if (dir is not null) Directory.CreateDirectory(dir);
            FashionEvaluatorFeatures.Save(model, outPath, options, report, src);
            var w = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
                w.WriteLine(new JsonObject
                {
                    ["out"] = Path.GetFullPath(outPath), ["test_accuracy"] = report.TestAccuracy, ["train_accuracy"] = report.TrainAccuracy,
                    ["train_loss"] = report.TrainLoss, ["steps"] = report.Steps, ["seconds"] = report.Seconds,
                }.ToJsonString());
            else
                w.WriteLine(FormattableString.Invariant($"wrote {outPath}: test accuracy {report.TestAccuracy:P2} ({report.Steps} steps, {report.Seconds:F0} s)"));
            return 0;
        });
        return new Command("evaluator", "Make the evaluator networks that define FD for a dataset (FD_fmnist).") { train };
    }
}
