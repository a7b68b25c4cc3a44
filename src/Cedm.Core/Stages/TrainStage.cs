using Cedm.Data;
using Cedm.Diffusion.Coherence;
using Cedm.Diffusion.FeatureConditioning;
using Cedm.Diffusion.ImageConditioning;
using Cedm.Diffusion.Labels;
using Cedm.Diffusion.Networks;
using Cedm.Diffusion.Training;
using Cedm.Distributed;
using Cedm.IO;

namespace Cedm.Stages;

/// <summary>A new training run (cli.md `cedm train`): data, conditioning, network preset and training settings.</summary>
public sealed record TrainRequest
{
    public required string Source { get; init; }

    /// <summary>Condition spec (<see cref="ConditionSources.Syntax"/>).</summary>
    public string Cond { get; init; } = "none";

    /// <summary>The run folder.</summary>
    public required string Out { get; init; }

    public TrainingOptions Training { get; init; } = new();

    /// <summary>Resize/crop before training; null keeps the stored size.</summary>
    public int? Resolution { get; init; }

    /// <summary>Black padding on every side; null pads only up to the multiple the U-Net needs.</summary>
    public int? Pad { get; init; }

    /// <summary>Coherence-aware training (CAD); null = off.</summary>
    public CoherenceOptions? Coherence { get; init; }

    /// <summary>Settings of a features:/gmm: condition (docs/feature-conditioning.md); null = the defaults.</summary>
    public FeatureConditionOptions? Features { get; init; }

    /// <summary>Start over in a folder that holds a run.</summary>
    public bool Force { get; init; }

    /// <summary>
    /// An image condition (related-seeds A′.1, Diffuse-TreeVAE stage 2): the net reads the source's condition images as
    /// extra input channels and its leaves as one-hot labels; <see cref="Cond"/> must then bring no labels. The
    /// source's <see cref="IImageConditionSource.Describe"/> is saved as config.json "image_condition". Null = none.
    /// </summary>
    public IImageConditionSource? ImageConditions { get; init; }
}

/// <summary>Continuing a run from its latest checkpoint with its saved options; only the budget may change.</summary>
public sealed record ResumeRequest
{
    public required string Out { get; init; }

    /// <summary>New absolute kimg target; null keeps the saved one.</summary>
    public double? Kimg { get; init; }

    /// <summary>Minutes of this invocation; null keeps the saved minutes unless <see cref="Kimg"/> is given.</summary>
    public double? Minutes { get; init; }

    /// <summary>The condition source of an image-conditioned run, rebuilt by the caller from its config.json
    /// "image_condition"; required for such a run, refused otherwise.</summary>
    public IImageConditionSource? ImageConditions { get; init; }
}

/// <summary>How long a pipeline trains: wall-clock minutes (`cedm run`) or training images (`cedm study`).</summary>
public abstract record TrainBudget
{
    private TrainBudget() { }

    /// <summary>Minutes summed over resumed invocations: a resume gets the minutes left.</summary>
    public sealed record Minutes(double Value) : TrainBudget;

    /// <summary>Thousands of training images in total (absolute: a resume stops at the same total).</summary>
    public sealed record Kimg(double Value) : TrainBudget;
}

/// <summary>
/// A run folder made ready to train: its config, data, conditioning and per-image coherence scores. It holds the
/// folder's <see cref="FolderLock"/> from creation until <see cref="Train"/> returns (or <see cref="Dispose"/>).
/// In a data-parallel job (<see cref="Distributed.Communicator.World"/>) only rank 0 holds the lock and writes the
/// folder; the other ranks have no lock.
/// </summary>
public sealed record TrainingSession(string Folder, RunConfig Config, ImageDataset Data, LabelSource Labels, float[]? Scores, bool IsResume, FolderLock? Lock) : IDisposable
{
    /// <summary>The continuous condition of a features:/gmm: run, else null.</summary>
    public FeatureSource? Features { get; init; }

    /// <summary>The condition source of an image-conditioned run (related-seeds A′.1), else null.</summary>
    public IImageConditionSource? ImageConditions { get; init; }

    /// <summary>Lines for the user found while preparing the run (e.g. a feature-space warning), printed when training starts.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    public void Dispose() => Lock?.Dispose();

    /// <summary>Trains until the budget of <see cref="Config"/> is spent, checkpointing into <see cref="Folder"/>.</summary>
    public (TrainingSummary Summary, long Parameters) Train(IStageObserver? observer = null)
    {
        using var held = this;
        observer ??= StageObserver.None;
        foreach (string note in Notes) observer.Note(note);
        var trainer = new EdmTrainer(Config.Network, Data, Labels, Config.Training, Scores, Features, Communicator.World, ImageConditions);
        var o = Config.Training;
        var progress = new InOrderProgress<TrainingProgress>(p =>
        {
            double fraction = p.TargetNimg == long.MaxValue ? (o.Minutes is double m ? p.Seconds / (m * 60) : 0) : (double)p.CurNimg / p.TargetNimg;
            observer.Progress(fraction, FormattableString.Invariant($"{p.CurNimg / 1000.0:F1} kimg  loss {p.Loss:F4}  {p.ImagesPerSecond:F0} img/s"));
        });
        var summary = TrainingRun.Train(trainer, Folder, IsResume, progress);
        return (summary, trainer.Net.ParameterCount());
    }
}

/// <summary>
/// The training stage. Owns the layout of a run folder (config.json, label_map.json, clusters.json copy,
/// coherence.npy, log.jsonl, checkpoint.json, checkpoints/): <see cref="Create"/> starts a run, <see cref="Resume"/>
/// continues one with its saved options, <see cref="CreateOrContinue"/> is the pipelines' policy (continue an
/// interrupted run within the same total budget, else start).
/// In a data-parallel job every rank calls the same method; rank 0 alone checks, locks and writes the folder, the
/// other ranks only read (docs/distributed.md).
/// </summary>
public static class TrainStage
{
    /// <summary>Everything a run folder holds besides config.json (removed by a forced restart).</summary>
    private static readonly string[] RunFiles = [Checkpoint.PointerFile, TrainingRun.LogFile, LabelSource.MapFile, LabelSource.ClustersCopyFile, CoherenceConfig.FileName, FeatureConditionConfig.FileName];

    public static TrainingSession Create(TrainRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        string run = request.Out;
        if (!Communicator.World.IsRoot()) return Prepare(request, null);
        if (File.Exists(Path.Combine(run, RunConfig.FileName)) && !request.Force) throw new OutputExistsException(Path.Combine(run, RunConfig.FileName));
        var folderLock = LockAndClean(run);
        try { return Prepare(request, folderLock); }
        catch { folderLock.Dispose(); throw; }
    }

    /// <summary>Takes the run folder's lock and removes the temp files a killed writer left there (checkpoints included).</summary>
    private static FolderLock LockAndClean(string run)
    {
        var folderLock = FolderLock.Acquire(run);
        AtomicFile.CleanStaleTemps(run);
        AtomicFile.CleanStaleTemps(Path.Combine(run, Checkpoint.Folder));
        return folderLock;
    }

    private static TrainingSession Prepare(TrainRequest request, FolderLock? folderLock)
    {
        string run = request.Out;
        var training = request.Training;
        training.Validate();
        var baseNet = SongUNetOptions.FromPreset(training.Preset);
        var raw = DataSource.Load(request.Source, new TransformOptions { Resolution = request.Resolution });
        // The U-Net halves the side (levels − 1) times, so the side must be a multiple of 2^(levels − 1). The default
        // pads only up to that: 28×28 Fashion-MNIST trains at 28×28 (7×7 at the deepest level), which costs 23% less
        // than padding to 32×32 and spends no capacity on always-black borders (docs/pipeline.md, "Training recipe").
        int multiple = 1 << (baseNet.ChannelMult.Count - 1);
        int padding = request.Pad ?? (raw.Height == raw.Width && raw.Height % multiple != 0 ? (multiple - raw.Height % multiple + 1) / 2 : 0);
        var transform = new TransformOptions { Pad = padding };
        transform.Validate();
        var data = ImageTransforms.Apply(raw, transform);
        if (data.Count == 0) throw new InvalidDataException($"{data.Name} has no images");
        if (data.Height != data.Width) throw new SettingException(nameof(request.Resolution), $"{data.Name}: images are {data.Height}x{data.Width}; the U-Net needs square images");
        if (data.Height % multiple != 0) throw new SettingException(nameof(request.Pad), $"{data.Name}: side {data.Height} is not divisible by {multiple}");
        var (labels, clusters) = ConditionSources.Resolve(request.Cond, data);
        FeatureSource? features = null;
        FeatureConditionConfig? featureConfig = null;
        FeatureSpace? space = null;
        if (FeatureConditions.IsFeatureSpec(request.Cond))
        {
            var fo = request.Features ?? new FeatureConditionOptions();
            if (request.Cond.StartsWith(FeatureConditions.FeaturesPrefix, StringComparison.Ordinal) && request.Features is null) fo = fo with { Mode = "own" };
            (features, featureConfig, space) = FeatureConditions.Fit(request.Cond, fo, data);
        }
        else if (request.Features != null) throw new SettingException("Features", "feature-condition settings need --cond features:<npy> or gmm:<dir>");
        var images = request.ImageConditions ?? (TreeVaeConditions.IsSpec(request.Cond) ? TreeVaeConditions.Source(request.Cond, data) : null);
        if (images != null && (labels.K > 0 || features != null))
            throw new SettingException(nameof(request.Cond), $"'{request.Cond}' brings its own condition; an image-conditioned run takes its leaves from its condition source");
        if (training.PUncond > 0 && labels.K == 0 && features == null && images == null) throw new SettingException(nameof(training.PUncond), "condition dropout needs a conditional model");
        if (training.PathTruncation > 0 && labels.Tree == null) throw new SettingException(nameof(training.PathTruncation), "path truncation needs a path-conditioned run (--cond tree:<dir>)");
        float[]? scores = null;
        CoherenceConfig? coherence = null;
        if (request.Coherence is { } co)
        {
            if (labels.K == 0) throw new SettingException("Coherence", "coherence-aware training needs a conditional model");
            (scores, coherence) = CoherenceConfig.Prepare(co, clusters, data.Count);
        }
        var network = baseNet with
        {
            Resolution = data.Height, InChannels = data.Channels, OutChannels = data.Channels, LabelDim = images?.LeafCount ?? labels.Dim,
            Dropout = training.Dropout ?? baseNet.Dropout, Coherence = scores != null, FeatureDim = features?.Dimension ?? 0,
            ConditionChannels = images?.Channels ?? 0,
        };
        network.Validate();
        var imageRecord = images?.Describe();
        imageRecord?.Validate(network.ConditionChannels, network.LabelDim);
        var config = new RunConfig
        {
            Source = request.Source, Cond = request.Cond, Resolution = request.Resolution, Pad = padding, Channels = data.Channels,
            Height = data.Height, Width = data.Width, Images = data.Count, Network = network, Training = training, Coherence = coherence,
            Features = featureConfig, ImageCondition = imageRecord,
        };
        if (folderLock is null) return new TrainingSession(run, config, data, labels, scores, IsResume: false, null) { ImageConditions = images };   // a rank other than 0
        if (request.Force && Directory.Exists(run))
        {
            foreach (var f in RunFiles) File.Delete(Path.Combine(run, f));
            if (Directory.Exists(Path.Combine(run, Checkpoint.Folder))) Directory.Delete(Path.Combine(run, Checkpoint.Folder), recursive: true);
        }
        Directory.CreateDirectory(run);
        config.Save(run);
        if (labels.K > 0) labels.Save(run);
        if (scores != null) CoherenceConfig.SaveValues(run, scores);
        if (features != null) FeatureConditionConfig.Save(run, space!, features.Mixture);
        return new TrainingSession(run, config, data, labels, scores, IsResume: false, folderLock)
        {
            Features = features, ImageConditions = images,
            Notes = featureConfig != null && FeatureConditions.FlatSpectrumWarning(featureConfig) is string warning ? [warning] : [],
        };
    }

    public static TrainingSession Resume(ResumeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var config = RunConfig.Load(request.Out);
        if (!Communicator.World.IsRoot()) return Continue(request, config, null);
        var folderLock = LockAndClean(request.Out);
        try { return Continue(request, config, folderLock); }
        catch { folderLock.Dispose(); throw; }
    }

    private static TrainingSession Continue(ResumeRequest request, RunConfig config, FolderLock? folderLock)
    {
        config = config with
        {
            Training = config.Training with
            {
                Kimg = request.Kimg ?? config.Training.Kimg,
                Minutes = request.Minutes ?? (request.Kimg is null ? config.Training.Minutes : null),
            },
        };
        config.Training.Validate();
        var data = DataSource.Load(config.Source, new TransformOptions { Resolution = config.Resolution, Pad = config.Pad });
        var (labels, _) = ConditionSources.Resolve(config.Cond, data);
        var scores = config.Coherence != null ? CoherenceConfig.LoadValues(request.Out, data.Count) : null;
        var features = config.Features != null ? FeatureConditions.Reload(request.Out, config.Features, data) : null;
        if (request.ImageConditions == null && config.ImageCondition is { Kind: TreeVaeConditions.Kind } record)
            request = request with { ImageConditions = TreeVaeConditions.Source(record, data) };
        CheckResumedImageConditions(request, config);
        return new TrainingSession(request.Out, config, data, labels, scores, IsResume: true, folderLock) { Features = features, ImageConditions = request.ImageConditions };
    }

    /// <summary>A resumed image-conditioned run needs its condition source again, with the channels and leaves it was trained with.</summary>
    private static void CheckResumedImageConditions(ResumeRequest request, RunConfig config)
    {
        var record = config.ImageCondition;
        var images = request.ImageConditions;
        if (record == null)
        {
            if (images != null) throw new SettingException(nameof(request.ImageConditions), $"{request.Out} was trained without a condition image");
            return;
        }
        if (images == null)
            throw new SettingException(nameof(request.ImageConditions), $"{request.Out} is conditioned on '{record.Kind}' images ({record.Source}); hand in the condition source rebuilt from its config.json image_condition");
        if (images.Channels != record.Channels || images.LeafCount != record.LeafCount)
            throw new SettingException(nameof(request.ImageConditions), $"{request.Out} was trained on {record.Channels} condition channel(s) and {record.LeafCount} leaves; the source handed in has {images.Channels} and {images.LeafCount}");
    }

    /// <summary>
    /// A fresh run in <paramref name="request"/>'s folder, or the continuation of the one an earlier invocation
    /// left there (minutes: those left, from the seconds the checkpoint pointer records; kimg: the same total).
    /// </summary>
    public static TrainingSession CreateOrContinue(TrainRequest request, TrainBudget budget)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Continuation(request.Out, budget) is { } resume ? Resume(resume with { ImageConditions = request.ImageConditions }) : Create(Fresh(request, budget));
    }

    /// <summary>
    /// How an interrupted run in <paramref name="folder"/> continues within <paramref name="budget"/> (minutes: those
    /// left after the seconds its checkpoint pointer records; kimg: the same total), or null when it has no checkpoint.
    /// </summary>
    public static ResumeRequest? Continuation(string folder, TrainBudget budget) => Checkpoint.Latest(folder) is { } l
        ? budget switch
        {
            TrainBudget.Minutes m => new ResumeRequest { Out = folder, Minutes = Math.Max(m.Value - l.Seconds / 60.0, 0.01) },
            TrainBudget.Kimg k => new ResumeRequest { Out = folder, Kimg = k.Value },
            _ => throw new ArgumentOutOfRangeException(nameof(budget)),
        }
        : null;

    /// <summary>The request of a fresh start within <paramref name="budget"/>, replacing whatever the folder holds.</summary>
    public static TrainRequest Fresh(TrainRequest request, TrainBudget budget) => request with
    {
        Force = true,
        Training = budget switch
        {
            TrainBudget.Minutes m => request.Training with { Minutes = m.Value, Kimg = null },
            TrainBudget.Kimg k => request.Training with { Kimg = k.Value, Minutes = null },
            _ => throw new ArgumentOutOfRangeException(nameof(budget)),
        },
    };

}

/// <summary>Progress&lt;T&gt; posts to the thread pool; a display wants the reports in order, on the reporting thread.</summary>
internal sealed class InOrderProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
