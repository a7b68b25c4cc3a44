using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Cedm.Data;
using Cedm.Imaging.Png;
using Cedm.IO;

namespace Cedm.Cli.Commands;

/// <summary>`cedm data info|grid`: look at a source before using it (cli.md "Commands").</summary>
public static class DataCommand
{
    public static Command Build()
    {
        var cmd = new Command("data", "Inspect an image source: counts and statistics, or a grid picture.");
        cmd.Subcommands.Add(BuildInfo());
        cmd.Subcommands.Add(BuildGrid());
        return cmd;
    }

    private static Command BuildInfo()
    {
        var source = SourceOptions.Source();
        var resolution = SourceOptions.Resolution();
        var pad = SourceOptions.Pad();
        var json = GlobalOptions.Json();
        var cmd = new Command("info", "Count, image size, labels and their counts, and per-channel pixel mean/std (0..255).")
        {
            source, resolution, pad, json,
        };
        cmd.SetAction(parse =>
        {
            var dataset = DataSource.Load(parse.GetValue(source)!, SourceOptions.Transform(parse, resolution, pad));
            var w = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json)) w.WriteLine(InfoJson(dataset));
            else WriteInfoTable(dataset, w);
            return 0;
        });
        return cmd;
    }

    private static string InfoJson(ImageDataset d)
    {
        var counts = d.LabelCounts();
        var (mean, std) = d.ChannelStatistics();
        var info = new Dictionary<string, object?>
        {
            ["name"] = d.Name,
            ["count"] = d.Count,
            ["height"] = d.Height,
            ["width"] = d.Width,
            ["channels"] = d.Channels,
            ["labels"] = counts.Count,
            ["label_counts"] = counts.ToDictionary(kv => kv.Key.ToString(CultureInfo.InvariantCulture), kv => kv.Value),
            ["label_names"] = d.LabelNames,
            ["mean"] = mean.Select(m => Math.Round(m, 4)).ToArray(),
            ["std"] = std.Select(s => Math.Round(s, 4)).ToArray(),
        };
        return JsonSerializer.Serialize(info);
    }

    private static void WriteInfoTable(ImageDataset d, TextWriter w)
    {
        var counts = d.LabelCounts();
        var (mean, std) = d.ChannelStatistics();
        w.WriteLine($"{d.Name}: {d.Count} images, {d.Height}x{d.Width}x{d.Channels} (HxWxC), {(counts.Count == 0 ? "no" : counts.Count.ToString(CultureInfo.InvariantCulture))} labels");
        w.WriteLine();
        w.WriteLine("channel      mean     std   (pixel values 0..255)");
        for (int c = 0; c < d.Channels; c++)
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{c,7} {mean[c],9:F2} {std[c],7:F2}"));
        if (counts.Count == 0) return;
        w.WriteLine();
        w.WriteLine("  label   count  name");
        foreach (var (label, count) in counts)
        {
            string name = d.LabelNames is { } names && label >= 0 && label < names.Count ? names[(int)label] : "";
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label,7} {count,7}  {name}"));
        }
    }

    private static Command BuildGrid()
    {
        var source = SourceOptions.Source();
        var resolution = SourceOptions.Resolution();
        var pad = SourceOptions.Pad();
        var n = new Option<int>("--n") { Description = "Number of images (drawn at random with --seed).", DefaultValueFactory = _ => 64 };
        var byLabel = new Option<bool>("--by-label") { Description = "One row per label, ceil(n / labels) images each." };
        var columns = new Option<int?>("--cols") { Description = "Images per row. Default: ceil(sqrt(n))." };
        var scale = new Option<int>("--scale") { Description = "Integer upscaling of each image (nearest neighbour).", DefaultValueFactory = _ => 1 };
        var seed = GlobalOptions.Seed();
        var force = GlobalOptions.Force();
        var output = new Option<string>("--out") { Description = "The PNG file to write.", Required = true };
        var cmd = new Command("grid", "Write a PNG grid of images from a source (random, or one row per label).")
        {
            source, n, byLabel, columns, scale, seed, output, force, resolution, pad,
        };
        cmd.SetAction(parse =>
        {
            string outPath = parse.GetValue(output)!;
            bool overwrite = parse.GetValue(force);
            int count = parse.GetValue(n), zoom = parse.GetValue(scale);
            if (count < 1) throw new UsageException($"--n must be at least 1, got {count}");
            if (zoom is < 1 or > 16) throw new UsageException($"--scale must be between 1 and 16, got {zoom}");
            if (parse.GetValue(columns) is < 1) throw new UsageException("--cols must be at least 1");
            if (!outPath.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) throw new UsageException($"--out: expected a .png file name, got {outPath}");
            if (File.Exists(outPath) && !overwrite) throw new UsageException($"--out: {outPath} already exists; pass --force to overwrite it");

            var dataset = DataSource.Load(parse.GetValue(source)!, SourceOptions.Transform(parse, resolution, pad));
            if (dataset.Count == 0) throw new UsageException($"{dataset.Name} has no images");
            var rng = new Random(parse.GetValue(seed));
            PngImage grid;
            int shown;
            if (parse.GetValue(byLabel))
            {
                if (dataset.Labels is null) throw new UsageException($"--by-label: {dataset.Name} has no labels");
                int labelCount = dataset.LabelCounts().Count;
                int perRow = parse.GetValue(columns) ?? (count + labelCount - 1) / labelCount;
                var rows = ImageGrid.RowsByLabel(dataset.Labels, perRow, rng);
                shown = rows.Sum(r => r.Count);
                grid = ImageGrid.Compose(dataset, rows, new GridOptions { Scale = zoom });
            }
            else
            {
                var picked = dataset.Select(ImageGrid.Sample(Enumerable.Range(0, dataset.Count).ToArray(), count, rng));
                int cols = parse.GetValue(columns) ?? (int)Math.Ceiling(Math.Sqrt(picked.Count));
                shown = picked.Count;
                grid = ImageGrid.Compose(picked, cols, new GridOptions { Scale = zoom });
            }
            AtomicFile.WriteAllBytes(outPath, PngEncoder.Encode(grid), overwrite);
            parse.InvocationConfiguration.Output.WriteLine($"wrote {outPath} ({grid.Width}x{grid.Height}, {shown} images of {dataset.Name})");
            return 0;
        });
        return cmd;
    }
}
