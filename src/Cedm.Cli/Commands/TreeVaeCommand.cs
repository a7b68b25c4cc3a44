using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Cedm.Data;
using Cedm.Imaging.Png;
using Cedm.IO;
using Cedm.Stages;

namespace Cedm.Cli.Commands;

/// <summary>
/// `cedm treevae sample|recon`: pictures of a `cedm cluster --method treevae` folder (<see cref="TreeVaeImages"/>):
/// root draws decoded at every leaf, one column per leaf, or real images and their decodes through every leaf.
/// </summary>
public static class TreeVaeCommand
{
    public static Command Build()
    {
        var cmd = new Command("treevae", "Pictures of a TreeVAE clustering: samples from its tree (one column per leaf) or reconstructions through its leaves.");
        cmd.Subcommands.Add(BuildSample());
        cmd.Subcommands.Add(BuildRecon());
        cmd.Subcommands.Add(BuildTree());
        return cmd;
    }

    private static Command BuildTree()
    {
        var dir = new Argument<string>("dir") { Description = "A `cedm cluster --method treevae` (or agglo) output folder." };
        var labels = new Argument<string?>("labels") { Description = $"Optional labelled source of the clustered images (e.g. fashion-mnist): each node lists its two most common labels. {DataSource.Syntax}.", Arity = ArgumentArity.ZeroOrOne };
        var cmd = new Command("tree", "Draw the cluster tree: one line per node with its images (and top labels).") { dir, labels };
        cmd.SetAction(parse =>
        {
            string folder = parse.GetValue(dir)!;
            var clusters = ConditionSources.LoadClusters(folder);
            var tree = ConditionSources.LoadTree(folder, clusters);
            var ids = clusters.Ids;
            ImageDataset? data = parse.GetValue(labels) is { } l ? DataSource.Load(l) : null;
            if (data != null && data.Count != ids.Length) throw new UsageException($"{parse.GetValue(labels)} has {data.Count} images; {folder} clustered {ids.Length}");
            parse.InvocationConfiguration.Output.Write(ClusterTreeText.Draw(tree, ids, data?.Labels, data?.LabelNames));
            return 0;
        });
        return cmd;
    }

    private static Argument<string> Folder() => new("dir") { Description = "A `cedm cluster --method treevae` output folder fitted on images." };

    private static Command BuildSample()
    {
        var dir = Folder();
        var n = new Option<int>("--n") { Description = "Root draws z_0 ~ N(0, I); each gives one image per leaf (grid rows).", DefaultValueFactory = _ => 8 };
        var output = new Option<string>("--out") { Description = "Images .npy, uint8 (rows x leaves, H, W, C), row-major by root draw then leaf.", Required = true };
        var grid = new Option<string?>("--grid") { Description = "Also a PNG grid: one row per root draw, one column per leaf." };
        var leaf = new Option<string>("--leaf") { Description = "all: every leaf of every root draw (rows x leaves images); p: one image per root draw, its leaf drawn from the tree's pi(z_0) (the TreeVAE as a generator, for metrics; the leaf of each in <out>_clusters.npy).", DefaultValueFactory = _ => "all" };
        leaf.AcceptOnlyFromAmong("all", "p");
        var seed = GlobalOptions.Seed();
        var force = GlobalOptions.Force();
        var json = GlobalOptions.Json();
        var cmd = new Command("sample", "Decode every leaf from the same root draws (related-seeds A.1 sample_all_leaves), or draw one image per root draw.") { dir, n, output, grid, leaf, seed, force, json };
        cmd.SetAction(parse =>
        {
            var model = TreeVaeImages.LoadModel(parse.GetValue(dir)!);
            if (parse.GetValue(leaf) == "p")
            {
                string outPath = parse.GetValue(output)!, clusters = Path.ChangeExtension(outPath, null) + "_clusters.npy";
                OutputExistsException.ThrowIfAnyExists(parse.GetValue(force), [outPath, clusters, parse.GetValue(grid)]);
                var drawn = TreeVaeImages.Draw(model, parse.GetValue(n), parse.GetValue(seed));
                Npy.Write(outPath, drawn.Pixels, drawn.Count, drawn.Height, drawn.Width, drawn.Channels);
                Npy.Write(clusters, drawn.Labels!, drawn.Count);
                if (parse.GetValue(grid) is { } g)
                    AtomicFile.WriteAllBytes(g, PngEncoder.Encode(ImageGrid.Compose(drawn, (int)Math.Ceiling(Math.Sqrt(drawn.Count)), new GridOptions { Scale = 2 })), overwrite: true);
                parse.InvocationConfiguration.Output.WriteLine($"{drawn.Count} images, leaves drawn from pi -> {outPath}");
                return 0;
            }
            var sheet = TreeVaeImages.Generate(model, parse.GetValue(n), parse.GetValue(seed));
            Write(parse, sheet, parse.GetValue(output)!, parse.GetValue(grid), parse.GetValue(force), parse.GetValue(json), "root draws");
            return 0;
        });
        return cmd;
    }

    private static Command BuildRecon()
    {
        var dir = Folder();
        var source = new Argument<string>("source") { Description = $"Images to reconstruct: {DataSource.Syntax}." };
        var n = new Option<int>("--n") { Description = "Images drawn from the source (grid rows).", DefaultValueFactory = _ => 8 };
        var output = new Option<string>("--out") { Description = "Images .npy, uint8: every leaf decode (rows x leaves) then the originals.", Required = true };
        var grid = new Option<string?>("--grid") { Description = "Also a PNG grid: one row per image, the original first, then its decode at every leaf." };
        var seed = GlobalOptions.Seed();
        var force = GlobalOptions.Force();
        var json = GlobalOptions.Json();
        var cmd = new Command("recon", "Reconstruct real images through every leaf (related-seeds A′.1 recons_all_leaves).") { dir, source, n, output, grid, seed, force, json };
        cmd.SetAction(parse =>
        {
            var model = TreeVaeImages.LoadModel(parse.GetValue(dir)!);
            var data = DataSource.Load(parse.GetValue(source)!);
            var sheet = TreeVaeImages.Reconstruct(model, data, parse.GetValue(n), parse.GetValue(seed));
            Write(parse, sheet, parse.GetValue(output)!, parse.GetValue(grid), parse.GetValue(force), parse.GetValue(json), "images");
            return 0;
        });
        return cmd;
    }

    private static void Write(ParseResult parse, TreeVaeSheet sheet, string output, string? grid, bool force, bool json, string rowsName)
    {
        OutputExistsException.ThrowIfAnyExists(force, [output, grid]);
        var images = sheet.Images;
        Npy.Write(output, images.Pixels, images.Count, images.Height, images.Width, images.Channels);
        if (grid != null) AtomicFile.WriteAllBytes(grid, PngEncoder.Encode(sheet.Grid()), overwrite: true);
        int rows = sheet.Rows.Count;
        // The mean leaf probability over the rows: which leaves these draws (or images) reach.
        var mean = Enumerable.Range(0, sheet.Leaves).Select(l => Enumerable.Range(0, rows).Average(r => (double)sheet.LeafProbabilities[r * sheet.Leaves + l])).ToArray();
        var w = parse.InvocationConfiguration.Output;
        if (json)
            w.WriteLine(new JsonObject
            {
                ["out"] = output, ["grid"] = grid, ["rows"] = rows, ["leaves"] = sheet.Leaves,
                ["mean_leaf_probability"] = new JsonArray(mean.Select(m => (JsonNode)Math.Round(m, 4)).ToArray()),
            }.ToJsonString());
        else
            w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{rows} {rowsName} x {sheet.Leaves} leaves -> {output}{(grid != null ? " and " + grid : "")}; mean leaf probability {string.Join(" ", mean.Select(m => m.ToString("F2", CultureInfo.InvariantCulture)))}"));
    }
}
