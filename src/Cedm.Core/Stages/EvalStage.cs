using System.Diagnostics;
using System.Text.Json.Nodes;
using Cedm.Clustering;
using Cedm.Data;
using Cedm.Distributed;
using Cedm.Features;
using Cedm.Features.Ssl;
using Cedm.IO;
using Cedm.Metrics;
using Cedm.Tensors;

namespace Cedm.Stages;

/// <summary>What `cedm eval` measures: generated images against a real source in an evaluator's feature space.</summary>
public sealed record EvalRequest
{
    /// <summary>The real images (cli.md "Data sources").</summary>
    public required string Real { get; init; }

    /// <summary>Generated images, uint8 .npy (N,H,W) or (N,H,W,C).</summary>
    public required string Samples { get; init; }

    /// <summary>metrics.json to write (<see cref="EvalReport"/>).</summary>
    public required string Out { get; init; }

    /// <summary>Overwrite an existing <see cref="Out"/>.</summary>
    public bool Force { get; init; }

    /// <summary>Extractor spec of the metrics' feature space; null = <see cref="EvalStage.DefaultEvaluator"/>.</summary>
    public string? Evaluator { get; init; }

    public int KidSubsets { get; init; } = Kid.DefaultSubsets;

    public int KidSubsetSize { get; init; } = Kid.DefaultSubsetSize;

    public int PrdcK { get; init; } = PrecisionRecall.DefaultK;

    public int PrdcMax { get; init; } = PrecisionRecall.DefaultMaxPerSide;

    /// <summary>At most this many real images (random, with <see cref="Seed"/>); null = all.</summary>
    public int? MaxReal { get; init; }

    /// <summary>A `cedm cluster` folder of the real source, for per-cluster FD and the samples' cluster placement.</summary>
    public string? Clusters { get; init; }

    /// <summary>Extractor spec the clustering was fitted on; null = the one recorded beside its features.</summary>
    public string? ClusterFeatures { get; init; }

    /// <summary>Cluster id of each sample, int (N,) .npy.</summary>
    public string? SampleClusters { get; init; }

    /// <summary>"raw" (the clustering's ids) or "compact" (0..K_used−1 over the non-empty clusters).</summary>
    public string SampleClusterIds { get; init; } = "raw";

    public bool NoCache { get; init; }

    /// <summary>
    /// Reference statistics (.npz with float64 mu (D,) and sigma (D, D), the pytorch-fid / EDM fid.py layout) that the
    /// FD is measured against instead of the real images' own: lets an FD be compared with one computed elsewhere on
    /// the same reference. Only meaningful in the same feature space (D must match the evaluator's). The real images
    /// are still read for KID and precision/recall, which need feature vectors, not statistics.
    /// </summary>
    public string? Ref { get; init; }

    /// <summary>Writes the real images' statistics in the evaluator's space to this .npz (same layout as <see cref="Ref"/>).</summary>
    public string? SaveRef { get; init; }

    /// <summary>
    /// The model's training images (a source, e.g. fashion-mnist:train): enables the memorisation check
    /// (<see cref="Memorisation"/>), in which <see cref="Real"/> plays the held-out images, so it should be a test split.
    /// </summary>
    public string? TrainSource { get; init; }

    /// <summary>
    /// Also write a grid of the this many samples with the lowest realism score (<see cref="RealismScore"/>) beside
    /// metrics.json (<see cref="EvalStage.WorstGridPath"/>), lowest first, and list them in metrics.json; 0 = none.
    /// </summary>
    public int Worst { get; init; }

    /// <summary>Held-out images used by the memorisation check, at most (random, with <see cref="Seed"/>): the nearest-neighbour search costs held-out x training distances.</summary>
    public int MemorisationMaxReal { get; init; } = 2000;

    public int Seed { get; init; }

    public string ResolvedEvaluator => Evaluator ?? EvalStage.DefaultEvaluator(Real);

    public void Validate()
    {
        if (!Out.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) throw new SettingException(nameof(Out), $"expected a .json file name, got {Out}");
        OutputExistsException.ThrowIfAnyExists(Force, Out);
        if (KidSubsets < 1) throw new ArgumentException($"must be at least 1, got {KidSubsets}", nameof(KidSubsets));
        if (KidSubsetSize < 2) throw new ArgumentException($"must be at least 2, got {KidSubsetSize}", nameof(KidSubsetSize));
        if (PrdcK < 1) throw new ArgumentException($"must be at least 1, got {PrdcK}", nameof(PrdcK));
        if (PrdcMax <= PrdcK) throw new ArgumentException($"must exceed the PRDC k, got {PrdcMax}", nameof(PrdcMax));
        if (Worst is < 0 or > 1024) throw new ArgumentException($"must be between 0 and 1024, got {Worst}", nameof(Worst));
        if (Worst > 0) OutputExistsException.ThrowIfAnyExists(Force, EvalStage.WorstGridPath(Out));
        if (MaxReal is < 2) throw new ArgumentException($"must be at least 2, got {MaxReal}", nameof(MaxReal));
        if (SampleClusterIds is not ("raw" or "compact")) throw new ArgumentException($"expected raw or compact, got {SampleClusterIds}", nameof(SampleClusterIds));
        if (Ref is not null && !Ref.EndsWith(".npz", StringComparison.OrdinalIgnoreCase)) throw new SettingException(nameof(Ref), $"expected an .npz of statistics (mu, sigma), got {Ref}");
        if (Ref is not null && !File.Exists(Ref)) throw new FileNotFoundException($"{Ref}: no such file", Ref);
        if (SaveRef is not null && !SaveRef.EndsWith(".npz", StringComparison.OrdinalIgnoreCase)) throw new SettingException(nameof(SaveRef), $"expected an .npz file name, got {SaveRef}");
        if (SaveRef is not null) OutputExistsException.ThrowIfAnyExists(Force, SaveRef);
        if (SampleClusters is not null && Clusters is null && !ResolvedEvaluator.StartsWith("fmnist", StringComparison.Ordinal))
            throw new ArgumentException("the samples' cluster ids need the real images' clustering (per-cluster FD) or the fmnist evaluator (class purity)", nameof(Clusters));

    }
}

/// <summary>
/// The evaluation stage: Fréchet distance (spec §6.1), KID, precision/recall/density/coverage (§6.3) of generated
/// images against real ones in an evaluator's feature space, per-cluster FD when the samples' cluster ids and the
/// real clustering are given, and the samples' placement in the real clustering. The real side's statistics are
/// cached (<see cref="ReferenceCache"/>). Writes and returns <see cref="EvalReport"/> (metrics.json).
/// In a job of several ranks (<see cref="Communicator.World"/>, docs/distributed.md) the real images (on a cache miss)
/// and the samples are extracted in slices, one per rank (<see cref="ShardedExtraction"/>); rank 0 computes the
/// metrics, writes metrics.json and the cache, and every rank returns its report. The per-cluster and memorisation
/// extras run on rank 0 alone, and an evaluator that must be fitted (pca:&lt;n&gt;, ssl) is fitted in one process first:
/// a cached fit serves every rank.
/// </summary>
public static class EvalStage
{
    /// <summary>Real feature vectors kept in the cache for KID and PRDC (dgm-eval uses 10 000 per side).</summary>
    public const int RealSubsetSize = PrecisionRecall.DefaultMaxPerSide;

    /// <param name="communicator">The job whose ranks share the extraction; null = <see cref="Communicator.World"/>.</param>
    public static EvalReport Run(EvalRequest request, IStageObserver? observer = null, ICommunicator? communicator = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var comm = communicator ?? Communicator.World;
        request.Validate();
        var metrics = Evaluate(request, observer ?? StageObserver.None, comm);
        if (comm.Size > 1) metrics = JsonNode.Parse(comm.BroadcastString(metrics?.ToJsonString()))!.AsObject();
        var report = new EvalReport(metrics!);
        if (comm.IsRoot()) report.Save(request.Out);
        return report;
    }

    /// <summary>FD_fmnist (the shipped evaluator) for Fashion-MNIST, whitened PCA-64 of the real images otherwise.</summary>
    public static string DefaultEvaluator(string realSource) =>
        realSource.Trim().StartsWith("fashion-mnist", StringComparison.OrdinalIgnoreCase) ? "fmnist" : "pca:64";

    /// <summary>Statistics and a feature subset of the real images, plus the spec that recreates the evaluator.</summary>
    private sealed record RealReference(double[] Mean, double[] Covariance, long Count, float[] Subset, int SubsetRows, int Dimension,
        string ResolvedEvaluator, JsonObject Transform);

    /// <summary>The metrics on rank 0; null on the other ranks once their slices are gathered.</summary>
    private static JsonObject? Evaluate(EvalRequest o, IStageObserver log, ICommunicator comm)
    {
        var timings = new JsonObject();
        var clock = Stopwatch.StartNew();
        var samples = NpySource.Load(o.Samples);
        if (samples.Count < 2) throw new InvalidDataException($"{o.Samples}: need at least 2 samples, got {samples.Count}");
        var shape = (samples.Height, samples.Width, samples.Channels);

        var key = new JsonObject
        {
            ["real"] = o.Real, ["real_files"] = ReferenceCache.Fingerprint(o.Real),
            ["evaluator"] = o.ResolvedEvaluator, ["evaluator_files"] = ReferenceCache.Fingerprint(FeatureExtractors.WithDefaultFiles(o.ResolvedEvaluator)),
            ["shape"] = new JsonArray(samples.Height, samples.Width, samples.Channels),
            ["max_real"] = o.MaxReal, ["seed"] = o.Seed, ["subset"] = RealSubsetSize,
        };
        var folders = DataSource.Parse(o.Real).Folders;
        if (folders.Count > 0) key["real_folders"] = ReferenceCache.Fingerprint(string.Join(',', folders));
        string cacheDir = ReferenceCache.Folder(key);
        // Rank 0's file system decides, so every rank takes the same path.
        bool hit = comm.BroadcastFlag(!o.NoCache && File.Exists(Path.Combine(cacheDir, "reference.json")));
        ImageDataset? realImages = null;
        ImageDataset RealImages() => realImages ??= LoadReal(o, shape);
        var reference = hit ? (comm.IsRoot() ? LoadReference(cacheDir) : null) : BuildReference(o, shape, RealImages, o.NoCache ? null : cacheDir, key, comm);
        string resolved = comm.Size > 1 ? comm.BroadcastString(reference?.ResolvedEvaluator) : reference!.ResolvedEvaluator;
        timings["real"] = clock.Elapsed.TotalSeconds;

        clock.Restart();
        var extractor = FeatureExtractors.Create(resolved, new FeatureExtractorContext { ImageShape = shape, Seed = o.Seed });
        if (ShardedExtraction.Extract(extractor, samples, comm) is not Tensor fakeFeatures || reference is null) return null;
        var fake = fakeFeatures.Data;
        int d = reference.Dimension, n = samples.Count;
        timings["sample_features"] = clock.Elapsed.TotalSeconds;

        clock.Restart();
        var fakeStats = FeatureStatistics.FromFeatures(fake, n, d);
        double fdReal = FrechetDistance.FromStatistics(reference.Mean, reference.Covariance, fakeStats.Mean(), fakeStats.Covariance());
        double fd = fdReal;
        if (o.Ref is not null)
        {
            var given = ReferenceStatistics.Load(o.Ref);
            if (given.Dimension != d)
                throw new InvalidDataException($"{o.Ref} holds statistics of D = {given.Dimension} but {o.Samples} has D = {d} in the evaluator's space ({reference.ResolvedEvaluator}); the reference must come from the same feature space");
            fd = FrechetDistance.FromStatistics(given.Mu, given.Sigma, fakeStats.Mean(), fakeStats.Covariance());
        }
        if (o.SaveRef is not null) new ReferenceStatistics(reference.Mean, reference.Covariance).Save(o.SaveRef);
        timings["fd"] = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var kid = Kid.Compute(reference.Subset, reference.SubsetRows, fake, n, d, new Rng(o.Seed), o.KidSubsets, o.KidSubsetSize);
        timings["kid"] = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var prdc = PrecisionRecall.ComputeSubsampled(reference.Subset, reference.SubsetRows, fake, n, d, new Rng(o.Seed + 1), o.PrdcK, o.PrdcMax);
        timings["prdc"] = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var realism = RealismScore.Compute(reference.Subset, reference.SubsetRows, fake, n, d, Math.Min(o.PrdcK, reference.SubsetRows - 1));
        timings["realism"] = clock.Elapsed.TotalSeconds;

        var metrics = new JsonObject
        {
            ["fd"] = fd,
            ["kid"] = kid.Mean, ["kid_std"] = kid.Std, ["kid_subsets"] = kid.Subsets, ["kid_subset_size"] = kid.SubsetSize,
            ["precision"] = prdc.Precision, ["recall"] = prdc.Recall, ["density"] = prdc.Density, ["coverage"] = prdc.Coverage,
            ["prdc_k"] = prdc.K, ["prdc_n_real"] = prdc.RealCount, ["prdc_n_samples"] = prdc.FakeCount,
            ["realism_median"] = RealismScore.Median(realism), ["realism_below_one"] = realism.Count(r => r < 1) / (double)n,
            ["n_real"] = reference.Count, ["n_samples"] = n, ["d"] = d,
            ["evaluator"] = o.ResolvedEvaluator, ["evaluator_resolved"] = reference.ResolvedEvaluator,
            ["real_source"] = o.Real, ["real_transform"] = reference.Transform.DeepClone(), ["samples"] = Path.GetFullPath(o.Samples),
            ["fd_ref"] = o.Ref is null ? null : Path.GetFullPath(o.Ref), ["fd_real"] = fdReal,
            ["saved_ref"] = o.SaveRef is null ? null : Path.GetFullPath(o.SaveRef),
            ["seed"] = o.Seed, ["cache"] = o.NoCache ? "off" : hit ? "hit" : "miss", ["cache_dir"] = o.NoCache ? null : cacheDir,
        };
        // The samples' ids say which condition made each (EvalRequest.Validate: with a clustering or the fmnist evaluator).
        var sampleIds = o.SampleClusters is null ? null : ReadSampleIds(o.SampleClusters, n);
        if (sampleIds != null && ClassPurity.Applies(extractor)) metrics["class_purity"] = ClassPurity.Compute(extractor, fake, n, sampleIds);
        if (o.Clusters is not null)
        {
            clock.Restart();
            AddClusterMetrics(metrics, o, extractor, fake, n, d, sampleIds, RealImages, log);
            AddClusterModelMetrics(metrics, o, samples, sampleIds, log);
            timings["clusters"] = clock.Elapsed.TotalSeconds;
        }
        if (o.Worst > 0) AddWorst(metrics, o, samples, realism);
        if (o.TrainSource is not null)
        {
            clock.Restart();
            AddMemorisation(metrics, o, extractor, samples, fake, n, d, RealImages);
            timings["memorisation"] = clock.Elapsed.TotalSeconds;
        }
        metrics["timings_s"] = timings;
        return metrics;
    }

    /// <summary>
    /// Loads the real source and brings it to the samples' size: equal sizes need nothing; samples larger by the
    /// same even margin on both axes are taken as padded (e.g. Fashion-MNIST 28 → 32 with pad 2, as training does);
    /// otherwise a square sample size is reached by resize + centre crop. Channels must agree.
    /// </summary>
    private static ImageDataset LoadReal(EvalRequest o, (int H, int W, int C) shape)
    {
        var raw = DataSource.Load(o.Real);
        if (raw.Channels != shape.C)
            throw new InvalidDataException($"{o.Real} has {raw.Channels} channel(s) but the samples have {shape.C}");
        TransformOptions t = TransformFor(raw.Height, raw.Width, shape.H, shape.W, o.Real);
        var real = t.IsIdentity ? raw : ImageTransforms.Apply(raw, t);
        if (o.MaxReal is int max && max < real.Count)
            real = real.Select(Subsets.AtMost(real.Count, max, new Rng(o.Seed)));
        if (real.Count < 2) throw new InvalidDataException($"{o.Real}: need at least 2 real images, got {real.Count}");
        return real;
    }

    private static TransformOptions TransformFor(int h, int w, int sh, int sw, string what)
    {
        if (h == sh && w == sw) return TransformOptions.None;
        if (sh - h == sw - w && sh > h && (sh - h) % 2 == 0) return new TransformOptions { Pad = (sh - h) / 2 };
        if (sh == sw) return new TransformOptions { Resolution = sh };
        throw new InvalidDataException($"{what} images are {h}x{w} but the samples are {sh}x{sw}; cannot match non-square samples");
    }

    /// <summary>The real side from the images (a cache miss); null on ranks other than 0 once their slice is gathered.</summary>
    private static RealReference? BuildReference(EvalRequest o, (int H, int W, int C) shape, Func<ImageDataset> realImages, string? cacheDir, JsonObject key,
        ICommunicator comm)
    {
        var real = realImages();
        bool fitted = false;
        var extractor = FeatureExtractors.Create(o.ResolvedEvaluator, new FeatureExtractorContext
        {
            ImageShape = shape, Seed = o.Seed,
            FitData = () =>
            {
                if (comm.Size > 1)
                    throw new SettingException(nameof(o.Evaluator), $"evaluator {o.ResolvedEvaluator} is fitted on the real images, which does not run on {comm.Size} ranks; run this `cedm eval` once in one process (the fit is cached for every later run) or pass a fitted model (--evaluator pca:<model.safetensors>)");
                fitted = true;
                return real;
            },
        });
        if (ShardedExtraction.Extract(extractor, real, comm) is not Tensor all) return null;
        var features = all.Data;
        int d = extractor.Dimension;
        var stats = FeatureStatistics.FromFeatures(features, real.Count, d);
        var subsetIdx = Subsets.AtMost(real.Count, RealSubsetSize, new Rng(o.Seed + 2));
        var subset = new float[subsetIdx.Length * d];
        Subsets.GatherRows(features, d, subsetIdx, subset);
        var transform = new JsonObject { ["real_count"] = real.Count };
        string resolved = extractor.Name;
        if (cacheDir is not null)
        {
            Directory.CreateDirectory(cacheDir);
            if (fitted && extractor is PcaFeatures pca)
            {
                string modelPath = Path.Combine(cacheDir, "pca.safetensors");
                pca.Save(modelPath, overwrite: true);
                resolved = FeatureExtractors.Resolved(pca, modelPath);
            }
            if (fitted && extractor is SslFeatures ssl)
            {
                string modelPath = Path.Combine(cacheDir, "ssl.safetensors");
                ssl.Save(modelPath, overwrite: true);
                resolved = FeatureExtractors.Resolved(ssl, modelPath);
            }
            stats.Save(cacheDir);
            Npy.Write(Path.Combine(cacheDir, "real_subset.npy"), subset, subsetIdx.Length, d);
            var doc = new JsonObject { ["key"] = key.DeepClone(), ["resolved"] = resolved, ["count"] = stats.Count, ["d"] = d, ["transform"] = transform.DeepClone() };
            AtomicFile.WriteAllBytes(Path.Combine(cacheDir, "reference.json"), System.Text.Encoding.UTF8.GetBytes(doc.ToJsonString()), overwrite: true);
        }
        else if (fitted && extractor is PcaFeatures pcaNoCache)
        {
            // Without a cache the fitted evaluator lives in a temporary file for the sample pass.
            string tmp = Path.Combine(Path.GetTempPath(), $"cedm-eval-pca-{Guid.NewGuid():N}.safetensors");
            pcaNoCache.Save(tmp);
            resolved = FeatureExtractors.Resolved(pcaNoCache, tmp);
        }
        else if (fitted && extractor is SslFeatures sslNoCache)
        {
            // Likewise a freshly trained ssl encoder, so the samples go through the same network.
            string tmp = Path.Combine(Path.GetTempPath(), $"cedm-eval-ssl-{Guid.NewGuid():N}.safetensors");
            sslNoCache.Save(tmp, overwrite: false);
            resolved = FeatureExtractors.Resolved(sslNoCache, tmp);
        }
        return new RealReference(stats.Mean(), stats.Covariance(), stats.Count, subset, subsetIdx.Length, d, resolved, transform);
    }

    private static RealReference LoadReference(string dir)
    {
        var doc = JsonFile.ReadObject(Path.Combine(dir, "reference.json"));
        var (mean, cov) = FeatureStatistics.Load(dir);
        var subset = Npy.Read(Path.Combine(dir, "real_subset.npy"));
        return new RealReference(mean, cov, doc["count"]!.GetValue<long>(), subset.ToFloat32(), subset.Shape[0], subset.Shape[1],
            doc["resolved"]!.GetValue<string>(), doc["transform"]!.AsObject());
    }

    /// <summary>The grid of the lowest-realism samples beside metrics.json: metrics.json → metrics.worst.png.</summary>
    public static string WorstGridPath(string metricsPath) => Path.ChangeExtension(metricsPath, ".worst.png");

    /// <summary>
    /// The <see cref="EvalRequest.Worst"/> samples of lowest realism score: "worst_samples" (index into the samples
    /// file and its score, lowest first) and a grid of them, 8 to a row, at twice their size.
    /// </summary>
    private static void AddWorst(JsonObject metrics, EvalRequest o, ImageDataset samples, double[] realism)
    {
        var worst = RealismScore.Worst(realism, Math.Min(o.Worst, samples.Count));
        metrics["worst_samples"] = new JsonArray(worst.Select(i => (JsonNode)new JsonObject { ["index"] = i, ["realism"] = realism[i] }).ToArray());
        var grid = ImageGrid.Compose(samples.Select(worst), Enumerable.Range(0, (worst.Length + 7) / 8)
            .Select(r => (IReadOnlyList<int>)Enumerable.Range(r * 8, Math.Min(8, worst.Length - r * 8)).ToArray()).ToList(), new GridOptions { Scale = 2 });
        AtomicFile.WriteAllBytes(WorstGridPath(o.Out), Cedm.Imaging.Png.PngEncoder.Encode(grid), overwrite: true);
        metrics["worst_grid"] = Path.GetFullPath(WorstGridPath(o.Out));
    }

    /// <summary>The grid of the memorisation check beside metrics.json: metrics.json → metrics.memorisation.png.</summary>
    public static string MemorisationGridPath(string metricsPath) => Path.ChangeExtension(metricsPath, ".memorisation.png");

    /// <summary>
    /// The memorisation check (<see cref="Memorisation"/>) in the evaluator's space: training images from
    /// <see cref="EvalRequest.TrainSource"/>, held-out images = the real source (at most MemorisationMaxReal), and a grid
    /// of the 16 samples closest to a training image (top row) above those training images (bottom row).
    /// </summary>
    private static void AddMemorisation(JsonObject metrics, EvalRequest o, IFeatureExtractor extractor, ImageDataset samples, float[] fake, int n, int d,
        Func<ImageDataset> realImages)
    {
        var shape = (samples.Height, samples.Width, samples.Channels);
        var train = LoadReal(o with { Real = o.TrainSource!, MaxReal = null }, shape);
        var real = realImages();
        if (real.Count > o.MemorisationMaxReal) real = real.Select(Subsets.AtMost(real.Count, o.MemorisationMaxReal, new Rng(o.Seed + 3)));
        var trainFeatures = extractor.Extract(train).Data;
        var realFeatures = extractor.Extract(real).Data;
        var m = Memorisation.Compute(trainFeatures, train.Count, fake, n, realFeatures, real.Count, d);

        var closest = Enumerable.Range(0, n).OrderBy(i => m.SampleDistances[i]).Take(16).ToArray();
        int size = samples.Height * samples.Width * samples.Channels;
        var pixels = new byte[2L * closest.Length * size];
        for (int k = 0; k < closest.Length; k++)
        {
            samples.Image(closest[k]).CopyTo(pixels.AsSpan(k * size, size));
            train.Image(m.SampleNearest[closest[k]]).CopyTo(pixels.AsSpan((closest.Length + k) * size, size));
        }
        var pairs = new ImageDataset("memorisation", pixels, 2 * closest.Length, samples.Height, samples.Width, samples.Channels);
        int[] top = Enumerable.Range(0, closest.Length).ToArray();
        var grid = ImageGrid.Compose(pairs, [top, top.Select(i => i + closest.Length).ToArray()], new GridOptions { Scale = 2 });
        string gridPath = MemorisationGridPath(o.Out);
        AtomicFile.WriteAllBytes(gridPath, Cedm.Imaging.Png.PngEncoder.Encode(grid), overwrite: true);

        metrics["memorisation_share"] = m.Share;
        metrics["memorisation_flagged"] = m.Flagged;
        metrics["memorisation_expected_share"] = m.Percentile / 100;
        metrics["memorisation_threshold"] = m.Threshold;
        metrics["memorisation_percentile"] = m.Percentile;
        metrics["memorisation_nn_median_samples"] = m.SampleMedian;
        metrics["memorisation_nn_median_real"] = m.RealMedian;
        metrics["memorisation_real_duplicates"] = m.RealDuplicates;
        metrics["memorisation_n_train"] = train.Count;
        metrics["memorisation_n_real"] = real.Count;
        metrics["memorisation_train_source"] = o.TrainSource;
        metrics["memorisation_grid"] = Path.GetFullPath(gridPath);
    }

    /// <summary>
    /// Per-cluster FD: samples conditioned on cluster c against the real images the clustering put in c, in the
    /// evaluator's feature space. Clusters with fewer than 2 vectors on either side are listed without an FD.
    /// </summary>
    private static void AddClusterMetrics(JsonObject metrics, EvalRequest o, IFeatureExtractor extractor, float[] fake, int n, int d,
        long[]? conditionIds, Func<ImageDataset> realImages, IStageObserver log)
    {
        var assignment = ClusterAssignment.Load(o.Clusters!);
        if (conditionIds is null)
        {
            log.Note("note: a real clustering without the samples' cluster ids: no per-cluster FD");
            return;
        }
        if (o.MaxReal is not null) throw new SettingException(nameof(o.MaxReal), "per-cluster FD uses every real image; give no limit");
        var used = assignment.Compacted().Used;
        var sampleIds = conditionIds.Select(v =>
        {
            if (o.SampleClusterIds == "compact")
                return v >= 0 && v < used.Length ? used[v] : throw new InvalidDataException($"{o.SampleClusters}: compact id {v} outside [0, {used.Length})");
            return v >= 0 && v < assignment.K ? (int)v : throw new InvalidDataException($"{o.SampleClusters}: id {v} outside [0, {assignment.K})");
        }).ToArray();
        var real = realImages();
        if (real.Count != assignment.Count)
            throw new InvalidDataException($"{o.Clusters} has {assignment.Count} ids but {o.Real} has {real.Count} images; the clustering must be of the real source");
        var realFeatures = extractor.Extract(real).Data;
        var perCluster = new JsonObject();
        double weighted = 0;
        int weight = 0;
        foreach (int c in sampleIds.Distinct().Order())
        {
            var ri = Enumerable.Range(0, real.Count).Where(i => assignment.Ids[i] == c).ToArray();
            var fi = Enumerable.Range(0, n).Where(i => sampleIds[i] == c).ToArray();
            var entry = new JsonObject { ["n_real"] = ri.Length, ["n_samples"] = fi.Length };
            if (ri.Length >= 2 && fi.Length >= 2)
            {
                var rs = new float[ri.Length * d];
                var fs = new float[fi.Length * d];
                Subsets.GatherRows(realFeatures, d, ri, rs);
                Subsets.GatherRows(fake, d, fi, fs);
                double fdc = FrechetDistance.FromFeatures(rs, ri.Length, fs, fi.Length, d);
                entry["fd"] = fdc;
                weighted += fdc * fi.Length;
                weight += fi.Length;
            }
            perCluster[c.ToString(System.Globalization.CultureInfo.InvariantCulture)] = entry;
        }
        metrics["per_cluster_fd"] = perCluster;
        metrics["per_cluster_fd_mean"] = weight > 0 ? weighted / weight : null;
    }

    /// <summary>
    /// Places the samples into the real clustering with its fitted model (IClusterModel.Predict on the clustering's
    /// own features: k-means nearest-centroid softmax, GMM posterior; TEMI head max-probability once added):
    /// cluster_distribution (samples per cluster), cluster_tv (total variation to the real p(c)),
    /// cluster_confidence_mean/median, and with --sample-clusters cluster_agreement (predicted = conditioned).
    /// </summary>
    private static void AddClusterModelMetrics(JsonObject metrics, EvalRequest o, ImageDataset samples, long[]? conditionIds, IStageObserver log)
    {
        string dir = o.Clusters!;
        if (!File.Exists(Path.Combine(dir, ClusterModels.FileName)))
        {
            log.Note($"note: {dir} has no {ClusterModels.FileName}: no cluster distribution/confidence of the samples");
            return;
        }
        string? spec = o.ClusterFeatures ?? ClusterFeatureSpec(dir);
        if (spec is null)
        {
            log.Note("note: cannot tell which features the clustering used; name them (cluster features spec) for the samples' cluster confidence");
            return;
        }
        var model = ClusterModels.Load(dir);
        var assignment = ClusterAssignment.Load(dir);
        var extractor = FeatureExtractors.Create(spec, new FeatureExtractorContext { ImageShape = (samples.Height, samples.Width, samples.Channels), Seed = o.Seed });
        var images = MatchShape(samples, extractor);
        var (ids, confidence) = model.Predict(extractor.Extract(images));
        var counts = new int[model.K];
        foreach (int id in ids) counts[id]++;
        var realP = assignment.PC;
        double tv = 0.5 * Enumerable.Range(0, model.K).Sum(c => Math.Abs((double)counts[c] / ids.Length - (c < realP.Length ? realP[c] : 0)));
        var sorted = confidence.Order().ToArray();
        metrics["cluster_features"] = spec;
        metrics["cluster_distribution"] = new JsonArray(counts.Select(c => (JsonNode)c).ToArray());
        metrics["cluster_tv"] = tv;
        metrics["cluster_confidence_mean"] = confidence.Average(v => (double)v);
        metrics["cluster_confidence_median"] = sorted[sorted.Length / 2];
        if (conditionIds is { } cond)
        {
            var used = assignment.Compacted().Used;
            long agree = 0;
            for (int i = 0; i < ids.Length && i < cond.Length; i++)
                if ((o.SampleClusterIds == "compact" ? used[cond[i]] : cond[i]) == ids[i]) agree++;
            metrics["cluster_agreement"] = (double)agree / ids.Length;
        }
    }

    private static long[] ReadSampleIds(string path, int n)
    {
        var array = Npy.Read(path);
        if (array.DType.IsFloat() || array.Shape.Length != 1 || array.Shape[0] != n)
            throw new InvalidDataException($"{path}: must be integer ids shaped ({n},); got {array.DType} ({string.Join(", ", array.Shape)})");
        return array.ToInt64();
    }

    /// <summary>The "resolved" extractor spec of the features a `cedm cluster` folder was fitted on (its options.json), or null.</summary>
    private static string? ClusterFeatureSpec(string dir) =>
        ClusteringRecord.Load(dir)?.Features is { } features ? FeatureFile.ResolvedSpec(features) : null;

    /// <summary>Samples padded for training (e.g. 32x32) are centre-cropped back to a fitted extractor's input size (28x28).</summary>
    private static ImageDataset MatchShape(ImageDataset samples, IFeatureExtractor extractor)
    {
        if (extractor is not PcaFeatures p || (p.Height == samples.Height && p.Width == samples.Width)) return samples;
        if (p.Height > samples.Height || p.Width > samples.Width)
            throw new SettingException("ClusterFeatures", $"the extractor expects {p.Height}x{p.Width} images; the samples are {samples.Height}x{samples.Width}");
        int size = p.Height * p.Width * samples.Channels;
        var pixels = new byte[(long)samples.Count * size];
        for (int i = 0; i < samples.Count; i++)
            ImageTransforms.CenterCrop(samples.Image(i), samples.Height, samples.Width, samples.Channels, p.Height, p.Width).CopyTo(pixels, (long)i * size);
        return new ImageDataset(samples.Name, pixels, samples.Count, p.Height, p.Width, samples.Channels);
    }
}
