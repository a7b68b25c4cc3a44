using System.Globalization;
using System.Text.Json;
using Cedm.Data;
using Cedm.Diffusion;
using Cedm.Diffusion.FeatureConditioning;
using Cedm.Diffusion.ImageConditioning;
using Cedm.Diffusion.Labels;
using Cedm.Diffusion.Sampling;
using Cedm.Diffusion.Training;
using Cedm.Distributed;
using Cedm.Imaging.Png;
using Cedm.IO;
using Cedm.Tensors;

namespace Cedm.Stages;

/// <summary>Which condition each sample gets (cli.md `cedm sample --cluster`).</summary>
public abstract record ConditionChoice
{
    private ConditionChoice() { }

    /// <summary>Drawn from the training p(c) (C-EDM's default).</summary>
    public sealed record Empirical : ConditionChoice;

    public sealed record Uniform : ConditionChoice;

    /// <summary>One row per utilised condition, the same seeds in every row.</summary>
    public sealed record All : ConditionChoice;

    /// <summary>One original label/cluster id for every sample.</summary>
    public sealed record Fixed(long OriginalId) : ConditionChoice;

    /// <summary>Path-conditioned runs (docs/hierarchy.md): one tree node; its samples draw a leaf under it by the
    /// leaves' training mass, so a coarse node samples its subtree's mixture.</summary>
    public sealed record Node(int NodeId) : ConditionChoice;

    /// <summary>Path-conditioned runs: one row per node at this depth (a leaf above it stands for itself), same seeds in every row.</summary>
    public sealed record Depth(int Level) : ConditionChoice;

    /// <summary>Path-conditioned runs: one row per node on the root path of cluster <paramref name="OriginalId"/>'s leaf, root first.</summary>
    public sealed record PathTo(long OriginalId) : ConditionChoice;

    /// <summary>"p", "uniform", "all", an original id, or for path-conditioned runs node:&lt;n&gt;, depth:&lt;d&gt;, path:&lt;id&gt;.</summary>
    public static ConditionChoice Parse(string text) => text switch
    {
        "p" => new Empirical(),
        "uniform" => new Uniform(),
        "all" => new All(),
        _ when long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long id) => new Fixed(id),
        _ when text.StartsWith("node:", StringComparison.Ordinal) => new Node(ParseCount(text, "node:")),
        _ when text.StartsWith("depth:", StringComparison.Ordinal) => new Depth(ParseCount(text, "depth:")),
        _ when text.StartsWith("path:", StringComparison.Ordinal) => new PathTo(ParseCount(text, "path:")),
        _ => throw new SettingException("Cluster", $"expected p, uniform, all, a cluster id, node:<n>, depth:<d> or path:<id>, got '{text}'"),
    };

    private static int ParseCount(string text, string prefix) =>
        int.TryParse(text.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v
            : throw new SettingException("Cluster", $"{prefix} expects a non-negative integer, got '{text}'");
}

/// <summary>What `cedm sample` does: draw images from a run and write them with their record.</summary>
public sealed record SampleRequest
{
    /// <summary>The run folder.</summary>
    public required string Run { get; init; }

    /// <summary>One image per seed (per condition row).</summary>
    public required IReadOnlyList<long> Seeds { get; init; }

    /// <summary>"p", "uniform", "all" or an original id (<see cref="ConditionChoice.Parse"/>).</summary>
    public string Cluster { get; init; } = "p";

    /// <summary>Sampler settings; <see cref="SamplerOptions.Coherence"/> is replaced by <see cref="Coherence"/> when given.</summary>
    public SamplerOptions Sampler { get; init; } = new();

    /// <summary>Coherence c of a coherence-aware run; null = the sampler's default (1). Refused for other runs.</summary>
    public double? Coherence { get; init; }

    /// <summary>A checkpoint of the run instead of the latest.</summary>
    public string? Checkpoint { get; init; }

    /// <summary>A feature-conditioned run: the draw temperature s ∈ (0, 1] of z ~ N(μ_k, s²Σ_k) (related-seeds B.3 item 3).</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>A feature-conditioned run: "a,b,t", draws interpolated between original clusters a and b ((1−t)·z_a + t·z_b).</summary>
    public string? Interpolate { get; init; }

    /// <summary>A feature-conditioned run: a features .npy (N, D) with a row per seed, whitened with the run's map (look-alikes).</summary>
    public string? Features { get; init; }

    /// <summary>A `cedm classifier` file: classifier guidance D − w·σ²·∇_x L with <see cref="ClassifierGuidance"/> w.</summary>
    public string? Classifier { get; init; }

    public double ClassifierGuidance { get; init; }

    /// <summary>How node:/depth:/path: rows are conditioned; null = the run's default (<see cref="Generator.NodeRows"/>).</summary>
    public NodeRowMode? NodeRows { get; init; }

    /// <summary>
    /// An image-conditioned run (config.json "image_condition", related-seeds A′.1): the condition sampler the caller
    /// rebuilt from that record (e.g. a TreeVAE's root draws and leaf decodes). Required for such a run, refused otherwise.
    /// </summary>
    public IImageConditionSampler? ImageConditions { get; init; }

    public required string Out { get; init; }

    public string? Grid { get; init; }

    public int Scale { get; init; } = 1;

    public bool Force { get; init; }

    public SamplerOptions EffectiveSampler => Coherence is double c ? Sampler with { Coherence = c } : Sampler;

    public void Validate()
    {
        if (!Out.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)) throw new ArgumentException($"expected a .npy file name, got {Out}", nameof(Out));
        if (Grid != null && !Grid.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) throw new ArgumentException($"expected a .png file name, got {Grid}", nameof(Grid));
        SampleRecord.Files(Out, Grid).CheckWritable(Force);
        if (Seeds.Count < 1) throw new ArgumentException("no seeds", nameof(Seeds));
        if (Scale is < 1 or > 16) throw new ArgumentException($"must be between 1 and 16, got {Scale}", nameof(Scale));
        if (Sampler.Guidance > 0 && Sampler.CoherenceGuidance > 0) throw new ArgumentException("classifier-free and coherence-aware guidance exclude each other; choose one", "Guidance");
        EffectiveSampler.Validate();
        ConditionChoice.Parse(Cluster);
        if (!(Temperature > 0 && Temperature <= 1)) throw new ArgumentException($"must be in (0, 1], got {Temperature}", nameof(Temperature));
        if (Interpolate != null && Features != null) throw new ArgumentException("--interpolate and --features exclude each other", nameof(Interpolate));
        if (Interpolate != null) FeatureChoice.ParseInterpolation(Interpolate);
    }
}

/// <summary>
/// The sampling stage: <see cref="Generator.Load"/>, <see cref="Generator.Sample"/>, <see cref="Generator.Save"/>.
/// In a data-parallel job (<see cref="Communicator.World"/>) every rank samples its slice of the seeds and rank 0
/// gathers and writes the files; the other ranks return only their own slice and an empty record.
/// </summary>
public static class SampleStage
{
    public static (SampleSet Set, SampleRecord Record) Run(SampleRequest request, IStageObserver? observer = null, ICommunicator? communicator = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var comm = communicator ?? Communicator.World;
        request.Validate();
        var generator = Generator.Load(request.Run, request.Checkpoint);
        if (!generator.Coherent && request.Coherence is not null)
            throw new SettingException(nameof(request.Coherence), "this run was trained without coherence scores");
        var options = request.EffectiveSampler;
        FeatureChoice? features = null;
        if (generator.FeatureConditioned)
            features = new FeatureChoice(request.Temperature, request.Interpolate, request.Features);
        else if (request.Interpolate != null || request.Features != null || request.Temperature != 1.0)
            throw new SettingException(request.Features != null ? nameof(request.Features) : request.Interpolate != null ? nameof(request.Interpolate) : nameof(request.Temperature),
                "this run was not trained on a feature condition (features:/gmm:)");
        if ((request.Classifier != null) != (request.ClassifierGuidance > 0))
            throw new SettingException(nameof(request.ClassifierGuidance), "classifier guidance needs both --classifier <file> and --classifier-guidance w > 0");
        if (request.Classifier != null) generator.UseClassifier(request.Classifier, request.ClassifierGuidance);
        if (request.NodeRows is { } nodeRows) generator.NodeRows = nodeRows;
        var set = generator.Sample(request.Seeds, ConditionChoice.Parse(request.Cluster), options, observer, comm, features, request.ImageConditions);
        if (!comm.IsRoot()) return (set, new SampleRecord());
        return (set, generator.Save(set, request.Out, request.Grid, request.Scale, request.Cluster, options, request.Force, features));
    }
}

/// <summary>Generated images with the seed and original condition id of each, in the order they were made.</summary>
public sealed record SampleSet(byte[] Pixels, int Count, int Height, int Width, int Channels, long[] Seeds, long[] OriginalIds, int Rows, int Nfe)
{
    /// <summary>The tree node of each row for node:, depth: and path: choices (docs/hierarchy.md), else null.</summary>
    public int[]? RowNodes { get; init; }

    public ImageDataset AsDataset(string name = "samples") => new(name, Pixels, Count, Height, Width, Channels);
}

/// <summary>
/// A trained run loaded for sampling (the generator stage): its config, its condition map and the EMA weights of a
/// checkpoint. <see cref="Sample"/> draws images per seed (the same image for a seed at any batch size);
/// <see cref="Save"/> writes the cli.md files of `cedm sample`.
/// </summary>
public sealed class Generator
{
    private Generator(string run, string checkpoint, RunConfig config, LabelMap map, EdmPrecond net)
    {
        Run = run; Checkpoint = checkpoint; Config = config; Map = map; Net = net;
    }

    public string Run { get; }

    /// <summary>The checkpoint file whose EMA weights are loaded.</summary>
    public string Checkpoint { get; }

    public RunConfig Config { get; }

    public LabelMap Map { get; }

    public EdmPrecond Net { get; }

    /// <summary>Whether the run conditions on coherence scores (CAD).</summary>
    public bool Coherent => Config.Network.Coherence;

    // Wraps the network before sampling (classifier guidance); null = the network itself.
    private Func<IDenoiser, IDenoiser>? _wrap;

    private IDenoiser Denoiser => _wrap?.Invoke(Net) ?? Net;

    /// <summary>
    /// Guides every later sample with a `cedm classifier` file at weight <paramref name="weight"/>
    /// (<see cref="ClassifierStage.Guidance"/>); samples.json records both.
    /// </summary>
    public void UseClassifier(string path, double weight)
    {
        _wrap = ClassifierStage.Guidance(path, this, weight);
        (ClassifierFile, ClassifierWeight) = (Path.GetFullPath(path), weight);
    }

    /// <summary>Whether the run conditions on a continuous vector (features:/gmm:, related-seeds B.3).</summary>
    public bool FeatureConditioned => Config.Network.FeatureDim > 0;

    /// <summary>
    /// How node:, depth: and path: rows condition a path-conditioned run: <see cref="NodeRowMode.Partial"/>, the node's
    /// partial-path row, only for runs trained with path truncation (their default); else <see cref="NodeRowMode.Subtree"/>.
    /// </summary>
    public NodeRowMode NodeRows
    {
        get => _nodeRows;
        set
        {
            if (value == NodeRowMode.Partial && !(Config.Training.PathTruncation > 0))
                throw new SettingException("NodeRows", "this run was trained without --path-truncation, so its partial-path rows were never trained; use --node-rows subtree");
            _nodeRows = value;
        }
    }

    private NodeRowMode _nodeRows;

    /// <summary>The classifier guiding the samples (recorded in samples.json; set with <see cref="UseClassifier"/>).</summary>
    public string? ClassifierFile { get; private set; }

    public double ClassifierWeight { get; private set; }

    /// <summary>Whether the run conditions on an image and a leaf (related-seeds A′.1; config.json "image_condition").</summary>
    public bool ImageConditioned => Config.Network.ConditionChannels > 0;

    /// <summary>Loads <paramref name="run"/>'s config, label map and the EMA weights of <paramref name="checkpoint"/> (default: the latest).</summary>
    public static Generator Load(string run, string? checkpoint = null)
    {
        if (checkpoint is not null && !File.Exists(checkpoint))
            throw new SettingException("Checkpoint", $"'{checkpoint}' is not a checkpoint file");
        var config = RunConfig.Load(run);
        var map = LabelSource.LoadMap(run);
        string path = checkpoint ?? Diffusion.Training.Checkpoint.Latest(run)?.Path
            ?? throw new FileNotFoundException($"{run}: no checkpoint yet ({Diffusion.Training.Checkpoint.PointerFile} missing)");
        // An image-conditioned run's leaves come from its condition sampler, not from a label map.
        bool leavesFromImages = config.Network.ConditionChannels > 0 && map.K == 0;
        if (map.Dim != config.Network.LabelDim && !leavesFromImages)
            throw new InvalidDataException($"{Path.Combine(run, RunConfig.FileName)}: the network's label dimension {config.Network.LabelDim} does not fit the rows of {map.Dim} of {Path.Combine(run, LabelSource.MapFile)}");
        var net = new EdmPrecond(config.Network, new Rng(0UL));
        Diffusion.Training.Checkpoint.LoadInto(net, Diffusion.Training.Checkpoint.LoadEma(path), path, run);
        net.SetTraining(false);
        return new Generator(run, path, config, map, net) { _nodeRows = config.Training.PathTruncation > 0 ? NodeRowMode.Partial : NodeRowMode.Subtree };
    }

    /// <summary>
    /// Samples one image per seed for each condition row of <paramref name="choice"/> (one row, or one per utilised
    /// condition for <see cref="ConditionChoice.All"/>). An unconditional run takes only the default choice.
    /// With a <paramref name="communicator"/> of several ranks each rank samples its contiguous slice of the seeds
    /// (every image depends only on its seed, so the images are those of one process) and rank 0 gathers the whole
    /// set in seed order; the other ranks get their slice. An image-conditioned run needs <paramref name="images"/>,
    /// the condition sampler rebuilt from its config.json "image_condition"; any other run refuses one.
    /// </summary>
    public SampleSet Sample(IReadOnlyList<long> seeds, ConditionChoice choice, SamplerOptions options, IStageObserver? observer = null,
        ICommunicator? communicator = null, FeatureChoice? features = null, IImageConditionSampler? images = null)
    {
        var comm = communicator ?? SingleProcess.Instance;
        ArgumentNullException.ThrowIfNull(seeds);
        observer ??= StageObserver.None;
        options.Validate();
        if (ImageConditioned) return SampleImageConditioned(seeds, choice, options, observer, comm, images);
        if (images != null) throw new SettingException("ImageConditions", "this run was trained without a condition image (condition_channels 0)");
        if (FeatureConditioned) return SampleFeatures(seeds, choice, options, observer, features ?? new FeatureChoice());
        if (options.Guidance > 0 && Map.K == 0) throw new SettingException(nameof(options.Guidance), "classifier-free guidance needs a conditional run");
        // D(x|∅) of a net never trained on the null condition is not the unconditional model (spec §1.5): guidance would extrapolate noise.
        if (options.Guidance > 0 && !(Config.Training.PUncond > 0))
            throw new SettingException(nameof(options.Guidance), "this run was trained without --p-uncond, so it has no unconditional model to guide with; train with --p-uncond 0.1");
        if (!Coherent && options.CoherenceGuidance > 0) throw new SettingException("CaGuidance", "coherence-aware guidance needs a run trained with coherence scores");
        var rows = new List<ConditionDraw?>();
        var rowNodes = (int[]?)null;
        if (Map.K == 0)
        {
            if (choice is not ConditionChoice.Empirical) throw new SettingException("Cluster", "this run is unconditional");
            rows.Add(null);
        }
        else if (choice is ConditionChoice.Node or ConditionChoice.Depth or ConditionChoice.PathTo)
        {
            rowNodes = TreeRows(choice);
            rows.AddRange(rowNodes.Select(v => (ConditionDraw?)(NodeRows == NodeRowMode.Partial && !Map.Tree!.IsLeaf(v)
                ? ConditionDraw.AtNode(Map, v) : SubtreeDraw(v).WithRows(Map))));
        }
        else rows.AddRange((choice switch
        {
            ConditionChoice.All => Enumerable.Range(0, Map.K).Select(c => ConditionDraw.Fixed(c, Map.K)),
            ConditionChoice.Empirical => [ConditionDraw.Empirical(Map.Counts)],
            ConditionChoice.Uniform => [ConditionDraw.Uniform(Map.K)],
            ConditionChoice.Fixed f => [ConditionDraw.Fixed(Map.ToCompact(f.OriginalId), Map.K)],
            _ => throw new ArgumentOutOfRangeException(nameof(choice)),
        }).Select(d => (ConditionDraw?)(Map.Tree != null ? d.WithRows(Map) : d)));

        return SampleRows(seeds, rows, (sampler, mine, draw, progress) => sampler.Sample(mine, Config.Channels, Config.Height, Config.Width, draw, progress),
            c => c < 0 ? -1L : Map.Used[c], options, observer, comm) with { RowNodes = rowNodes };
    }

    /// <summary>
    /// An image-conditioned run (related-seeds A′.1): "p" lets the condition sampler draw each image's leaf (A′.1's
    /// <c>sample</c>), "all" gives one row per leaf with the same seeds (<c>sample_all_leaves</c>), an id fixes that
    /// leaf. Ids are leaf ids.
    /// </summary>
    private SampleSet SampleImageConditioned(IReadOnlyList<long> seeds, ConditionChoice choice, SamplerOptions options, IStageObserver observer,
        ICommunicator comm, IImageConditionSampler? images)
    {
        var record = Config.ImageCondition!;   // RunConfig.Validate: present whenever the net has condition channels
        if (images == null && record.Kind == TreeVaeConditions.Kind) images = TreeVaeConditions.Sampler(record);
        if (images == null)
            throw new SettingException("ImageConditions", $"this run is conditioned on '{record.Kind}' images ({record.Source}); hand in the condition sampler rebuilt from its config.json image_condition");
        if (images.Channels != record.Channels || images.LeafCount != record.LeafCount)
            throw new SettingException("ImageConditions", $"the run's condition has {record.Channels} channel(s) and {record.LeafCount} leaves; the sampler handed in has {images.Channels} and {images.LeafCount}");
        if (FeatureConditioned) throw new NotSupportedException("sampling a run conditioned on both features and an image is not supported");
        if (options.Guidance > 0 && !(Config.Training.PUncond > 0))
            throw new SettingException(nameof(options.Guidance), "this run was trained without --p-uncond, so it has no unconditional model to guide with; train with --p-uncond 0.1");
        if (!Coherent && options.CoherenceGuidance > 0) throw new SettingException("CaGuidance", "coherence-aware guidance needs a run trained with coherence scores");
        int k = record.LeafCount;
        List<int?> leaves = choice switch
        {
            ConditionChoice.Empirical => [null],
            ConditionChoice.All => Enumerable.Range(0, k).Select(l => (int?)l).ToList(),
            ConditionChoice.Fixed f when f.OriginalId >= 0 && f.OriginalId < k => [(int)f.OriginalId],
            ConditionChoice.Fixed f => throw new SettingException("Cluster", $"{f.OriginalId}: not a leaf of this run (it has leaves 0..{k - 1})"),
            _ => throw new SettingException("Cluster", "an image-conditioned run takes p (the condition sampler draws the leaf), all (one row per leaf) or a leaf id"),
        };
        return SampleRows(seeds, leaves, (sampler, mine, leaf, progress) => sampler.Sample(mine, Config.Channels, Config.Height, Config.Width,
            progress: progress, images: new ImageConditionDraw(images, leaf)), c => c, options, observer, comm);
    }

    /// <summary>
    /// One image per seed for each row: this rank's slice of the seeds through <paramref name="sampleRow"/> row by
    /// row, condition ids mapped to original ids by <paramref name="original"/>, gathered on rank 0 in seed order.
    /// </summary>
    private SampleSet SampleRows<T>(IReadOnlyList<long> seeds, IReadOnlyList<T> rows, Func<EdmSampler, long[], T, IProgress<double>, SampleResult> sampleRow,
        Func<int, long> original, SamplerOptions options, IStageObserver observer, ICommunicator comm)
    {
        var sampler = new EdmSampler(Denoiser, options);
        var (lo, hi) = comm.Shard(seeds.Count);
        var mine = seeds.Skip(lo).Take(hi - lo).ToArray();
        int total = rows.Count * mine.Length, done = 0;
        var results = new List<SampleResult>(rows.Count);
        foreach (var row in rows)
        {
            var r = sampleRow(sampler, mine, row,
                new InOrderProgress<double>(f => observer.Progress((done + f * mine.Length) / Math.Max(total, 1), $"{total} images, {options.Steps} steps")));
            done += mine.Length;
            results.Add(r);
        }
        var pixels = results.SelectMany(r => r.ToUInt8()).ToArray();
        var ids = results.SelectMany(r => r.Conditions).Select(original).ToArray();
        var seedList = results.SelectMany(r => r.Seeds).ToArray();
        if (comm.Size == 1) return new SampleSet(pixels, total, Config.Height, Config.Width, Config.Channels, seedList, ids, rows.Count, sampler.Nfe);
        return GatherRows(comm, results, seeds.Count, rows.Count, sampler.Nfe, original);
    }

    /// <summary>Rank 0: every rank's rows concatenated row by row in rank (= seed) order. Others: their own slice.</summary>
    private SampleSet GatherRows(ICommunicator comm, List<SampleResult> results, int seedCount, int rowCount, int nfe, Func<int, long> original)
    {
        int imageBytes = Config.Height * Config.Width * Config.Channels;
        var pixels = new List<byte>();
        var ids = new List<long>();
        var seeds = new List<long>();
        foreach (var r in results)
        {
            byte[] p = comm.Gather(r.ToUInt8());
            byte[] s = comm.Gather(System.Runtime.InteropServices.MemoryMarshal.AsBytes(r.Seeds.AsSpan()));
            byte[] c = comm.Gather(System.Runtime.InteropServices.MemoryMarshal.AsBytes(r.Conditions.Select(original).ToArray().AsSpan()));
            if (!comm.IsRoot()) { pixels.AddRange(r.ToUInt8()); seeds.AddRange(r.Seeds); ids.AddRange(r.Conditions.Select(original)); continue; }
            if (p.Length != seedCount * imageBytes) throw new InvalidOperationException($"gathered {p.Length} bytes of images, expected {seedCount * imageBytes}");
            pixels.AddRange(p);
            seeds.AddRange(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(s).ToArray());
            ids.AddRange(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(c).ToArray());
        }
        return new SampleSet([.. pixels], seeds.Count, Config.Height, Config.Width, Config.Channels, [.. seeds], [.. ids], rowCount, nfe);
    }

    /// <summary>The tree nodes of a node:, depth: or path: choice, one per grid row.</summary>
    private int[] TreeRows(ConditionChoice choice)
    {
        var tree = Map.Tree ?? throw new SettingException("Cluster", "node:, depth: and path: need a path-conditioned run (train --cond path:<dir>)");
        switch (choice)
        {
            case ConditionChoice.Node n:
                if (n.NodeId >= tree.Nodes) throw new SettingException("Cluster", $"node:{n.NodeId}: the tree has nodes 0..{tree.Nodes - 1}");
                return [n.NodeId];
            case ConditionChoice.Depth d:
                if (d.Level > tree.MaxDepth) throw new SettingException("Cluster", $"depth:{d.Level}: the tree's deepest leaf is at depth {tree.MaxDepth}");
                return tree.Frontier(d.Level);
            case ConditionChoice.PathTo p:
                return tree.Path(tree.LeafOfCluster[Map.Used[Map.ToCompact(p.OriginalId)]]);
            default:
                throw new ArgumentOutOfRangeException(nameof(choice));
        }
    }

    /// <summary>
    /// The condition draw of tree node <paramref name="node"/>: a leaf under it, drawn by the leaves' training counts
    /// (p(leaf | node) ∝ n_leaf), so the node's samples follow its subtree's mixture Σ_l p(l | node) p(x | l) of a
    /// model trained on full paths only. A leaf node is its own cluster.
    /// </summary>
    public ConditionDraw SubtreeDraw(int node)
    {
        var tree = Map.Tree ?? throw new InvalidOperationException("not a path-conditioned run");
        var counts = Map.Counts.Select((n, c) => tree.IsAncestor(node, tree.LeafOfCluster[Map.Used[c]]) ? n : 0).ToArray();
        return ConditionDraw.Empirical(counts);
    }

    /// <summary>
    /// A feature-conditioned run (related-seeds B.3 item 3): rows of the mixture's components (p: by π_k, uniform, all,
    /// or an original cluster id), one interpolated row, or one row of given features. Ids are original cluster ids
    /// (−1 for given features).
    /// </summary>
    private SampleSet SampleFeatures(IReadOnlyList<long> seeds, ConditionChoice choice, SamplerOptions options, IStageObserver observer, FeatureChoice features)
    {
        var (space, mixture) = FeatureConditionConfig.Load(Run);
        var rows = new List<FeatureDraw>();
        if (features.Features is string path)
        {
            if (choice is not ConditionChoice.Empirical) throw new SettingException("Cluster", "--features gives every image its condition; leave --cluster out");
            var a = Features.FeatureFile.ReadValidated(path);
            if (a.Shape[1] != space.InputDimension) throw new InvalidDataException($"{path}: {a.Shape[1]} feature dimensions, the run was trained on {space.InputDimension} ({Config.Features?.Features})");
            if (a.Shape[0] < seeds.Count) throw new InvalidDataException($"{path}: {a.Shape[0]} feature rows for {seeds.Count} images (one row per seed)");
            int n = seeds.Count;
            rows.Add(FeatureDraw.Given(space.Apply(a.ToFloat32().AsSpan(0, n * space.InputDimension), n), space.Dimension));
        }
        else if (features.Interpolate is string text)
        {
            if (choice is not ConditionChoice.Empirical) throw new SettingException("Cluster", "--interpolate names its clusters; leave --cluster out");
            var (a, b, t) = FeatureChoice.ParseInterpolation(text);
            rows.Add(FeatureDraw.Interpolate(mixture, Component(mixture, a), Component(mixture, b), t, features.Temperature));
        }
        else rows.AddRange(choice switch
        {
            ConditionChoice.All => Enumerable.Range(0, mixture.K).Select(c => FeatureDraw.FromMixture(mixture, c, features.Temperature)),
            ConditionChoice.Empirical => [FeatureDraw.FromMixture(mixture, FeatureDraw.ByWeight, features.Temperature)],
            ConditionChoice.Uniform => [FeatureDraw.FromMixture(mixture, FeatureDraw.Uniformly, features.Temperature)],
            ConditionChoice.Fixed f => [FeatureDraw.FromMixture(mixture, Component(mixture, f.OriginalId), features.Temperature)],
            _ => throw new ArgumentOutOfRangeException(nameof(choice)),
        });
        var sampler = new EdmSampler(Denoiser, options);
        int total = rows.Count * seeds.Count, done = 0;
        var results = new List<SampleResult>(rows.Count);
        foreach (var draw in rows)
        {
            results.Add(sampler.Sample(seeds, Config.Channels, Config.Height, Config.Width, null,
                new InOrderProgress<double>(f => observer.Progress((done + f * seeds.Count) / total, $"{total} images, {options.Steps} steps")), draw));
            done += seeds.Count;
        }
        return new SampleSet(results.SelectMany(r => r.ToUInt8()).ToArray(), total, Config.Height, Config.Width, Config.Channels,
            results.SelectMany(r => r.Seeds).ToArray(), results.SelectMany(r => r.Conditions).Select(c => c < 0 ? -1L : mixture.Used[c]).ToArray(),
            rows.Count, sampler.Nfe);
    }

    private static int Component(FeatureMixture mixture, long original)
    {
        int c = mixture.IndexOf(original);
        if (c < 0) throw new SettingException("Cluster", $"{original}: not a component of this run's mixture (it has {mixture.K}: {string.Join(", ", mixture.Used.Take(20))}{(mixture.K > 20 ? ", ..." : "")})");
        return c;
    }

    /// <summary>
    /// Writes samples.npy (uint8 [N, H, W, C]), &lt;stem&gt;_clusters.npy (original id per image, −1 unconditional),
    /// &lt;stem&gt;.json (<see cref="SampleRecord"/>) and optionally a PNG grid (one row per condition for several rows).
    /// </summary>
    public SampleRecord Save(SampleSet set, string outPath, string? gridPath, int gridScale, string? choiceText, SamplerOptions options, bool overwrite, FeatureChoice? features = null)
    {
        var record = SampleRecord.For(outPath, gridPath);
        SampleRecord.Files(outPath, gridPath).CheckWritable(overwrite);
        Npy.Write(record.Clusters, set.OriginalIds, set.Count);
        Npy.Write(outPath, set.Pixels, set.Count, set.Height, set.Width, set.Channels);
        if (gridPath != null)
        {
            var images = set.AsDataset();
            int perRow = set.Count / set.Rows;
            PngImage png = set.Rows > 1
                ? ImageGrid.Compose(images, Enumerable.Range(0, set.Rows).Select(r => (IReadOnlyList<int>)Enumerable.Range(r * perRow, perRow).ToArray()).ToList(), new GridOptions { Scale = gridScale })
                : ImageGrid.Compose(images, (int)Math.Ceiling(Math.Sqrt(set.Count)), new GridOptions { Scale = gridScale });
            AtomicFile.WriteAllBytes(gridPath, PngEncoder.Encode(png), overwrite: true);
        }
        record = record with
        {
            Run = Run, Checkpoint = Checkpoint, N = set.Count, Seeds = [set.Seeds.Min(), set.Seeds.Max()],
            Height = set.Height, Width = set.Width, Channels = set.Channels,
            Cluster = Map.K == 0 && !FeatureConditioned && !ImageConditioned ? null : features?.Features != null || features?.Interpolate != null ? null : choiceText,
            LabelMode = ImageConditioned ? Config.ImageCondition!.Kind : FeatureConditioned ? Config.Features?.Kind ?? "features" : Map.Mode, FeatureDim = Config.Network.FeatureDim,
            Temperature = FeatureConditioned && features?.Features == null ? features?.Temperature ?? 1.0 : null,
            Interpolate = features?.Interpolate, FeaturesFile = features?.Features, LabelDim = ImageConditioned ? Config.Network.LabelDim : Map.Dim, Nodes = set.RowNodes,
            NodeDepths = set.RowNodes?.Select(v => Map.Tree!.Depth(v)).ToArray(), NodeRows = set.RowNodes is null ? null : NodeRows == NodeRowMode.Partial ? "partial" : "subtree",
            Classifier = ClassifierFile, ClassifierGuidance = ClassifierWeight, Coherence = Coherent ? options.Coherence : null,
            ClusterCounts = set.OriginalIds.GroupBy(c => c).OrderBy(g => g.Key).ToDictionary(g => g.Key.ToString(CultureInfo.InvariantCulture), g => g.Count()),
            Solver = options.Solver,
            Sampler = new Dictionary<string, double>
            {
                ["steps"] = options.Steps, ["nfe"] = set.Nfe, ["sigma_min"] = options.SigmaMin, ["sigma_max"] = options.SigmaMax, ["rho"] = options.Rho,
                ["s_churn"] = options.SChurn, ["s_min"] = options.SMin, ["s_max"] = double.IsInfinity(options.SMax) ? -1 : options.SMax, ["s_noise"] = options.SNoise,
                ["guidance"] = options.Guidance, ["ca_guidance"] = options.CoherenceGuidance, ["ca_low"] = options.CoherenceLow,
            },
        };
        record.Save(outPath);
        return record;
    }
}

/// <summary>
/// &lt;samples&gt;.json beside a samples.npy: what made the samples (run, checkpoint, seeds, sampler settings) and the
/// count per condition. Written and read only here.
/// </summary>
public sealed record SampleRecord
{
    public int Version { get; init; } = 1;
    public string Run { get; init; } = "";
    public string Checkpoint { get; init; } = "";
    public int N { get; init; }
    public long[] Seeds { get; init; } = [];
    public int Height { get; init; }
    public int Width { get; init; }
    public int Channels { get; init; }
    public string? Cluster { get; init; }
    public string LabelMode { get; init; } = "none";
    public int LabelDim { get; init; }

    /// <summary>Path-conditioned runs sampled by node:, depth: or path:: the tree node of each grid row and its depth.</summary>
    public int[]? Nodes { get; init; }
    public int[]? NodeDepths { get; init; }

    /// <summary>With <see cref="Nodes"/>: "subtree" (a leaf drawn under each node) or "partial" (the node's partial-path row).</summary>
    public string? NodeRows { get; init; }

    /// <summary>The `cedm classifier` file that guided the samples and its weight (null and 0 without).</summary>
    public string? Classifier { get; init; }
    public double ClassifierGuidance { get; init; }
    public double? Coherence { get; init; }
    public int FeatureDim { get; init; }
    public double? Temperature { get; init; }
    public string? Interpolate { get; init; }
    public string? FeaturesFile { get; init; }
    public string Images { get; init; } = "";
    public string Clusters { get; init; } = "";
    public string? Grid { get; init; }
    public Dictionary<string, int> ClusterCounts { get; init; } = [];

    /// <summary>The sampler's ODE solver, "solver": "heun" or "dpm2m" (records written before it existed were all Heun).</summary>
    public SamplerSolver Solver { get; init; } = SamplerSolver.Heun;

    /// <summary>The numeric sampler settings: steps, nfe (network evaluations per image under <see cref="Solver"/>), σ range, churn, guidance.</summary>
    public Dictionary<string, double> Sampler { get; init; } = [];

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>samples.npy → samples.json.</summary>
    public static string PathFor(string samplesPath) => samplesPath[..^4] + ".json";

    /// <summary>Every file `cedm sample` writes for <paramref name="samplesPath"/>.</summary>
    public static string?[] Outputs(string samplesPath, string? grid) => [samplesPath, samplesPath[..^4] + "_clusters.npy", PathFor(samplesPath), grid];

    /// <summary>
    /// The outputs as one <see cref="OutputSet"/>: &lt;stem&gt;_clusters.npy is written first (the signature of an
    /// interrupted write), &lt;stem&gt;.json last (the marker of a complete one).
    /// </summary>
    public static OutputSet Files(string samplesPath, string? grid) => new(PathFor(samplesPath), samplesPath[..^4] + "_clusters.npy", Outputs(samplesPath, grid));

    internal static SampleRecord For(string samplesPath, string? grid) =>
        new() { Images = samplesPath, Clusters = samplesPath[..^4] + "_clusters.npy", Grid = grid };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public void Save(string samplesPath) =>
        AtomicFile.WriteAllBytes(PathFor(samplesPath), System.Text.Encoding.UTF8.GetBytes(ToJson()), overwrite: true);

    public static SampleRecord Load(string samplesPath)
    {
        string path = PathFor(samplesPath);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such samples record", path);
        try { return JsonSerializer.Deserialize<SampleRecord>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"{path}: empty"); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a cedm samples record ({e.Message})", e); }
    }
}

/// <summary>How a feature-conditioned run's samples get their condition vectors (cli.md `cedm sample --temperature`,
/// `--interpolate a,b,t`, `--features`; docs/feature-conditioning.md).</summary>
public sealed record FeatureChoice(double Temperature = 1.0, string? Interpolate = null, string? Features = null)
{
    /// <summary>"a,b,t": two original cluster ids and t ∈ [0, 1].</summary>
    public static (long A, long B, double T) ParseInterpolation(string text)
    {
        var parts = text.Split(',');
        if (parts.Length == 3
            && long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out long a)
            && long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long b)
            && double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double t) && t >= 0 && t <= 1)
            return (a, b, t);
        throw new SettingException("Interpolate", $"expected a,b,t (two cluster ids and t in [0, 1]), got '{text}'");
    }
}

/// <summary>How a tree node conditions a path-conditioned run's samples (docs/hierarchy.md "Sampling at any depth").</summary>
public enum NodeRowMode
{
    /// <summary>Each image draws a leaf under the node by the leaves' training counts and takes that leaf's full path.</summary>
    Subtree,

    /// <summary>Every image takes the node's partial path (root … node), trained by path truncation.</summary>
    Partial,
}
