using System.Globalization;
using Cedm.Data;
using Cedm.Diffusion;
using Cedm.Diffusion.FeatureConditioning;
using Cedm.Diffusion.Sampling;
using Cedm.Diffusion.Training;
using Cedm.IO;
using Cedm.Tensors;

namespace Cedm.Stages;

/// <summary>What `cedm classifier` trains: the auxiliary noisy-image classifier of a run (docs/feature-conditioning.md).</summary>
public sealed record ClassifierRequest
{
    /// <summary>A conditional `cedm train` run folder (its data and classes; NGMG needs a features:/gmm: run's mixture).</summary>
    public required string Run { get; init; }

    /// <summary>"ngmg" or "ce".</summary>
    public string Objective { get; init; } = AuxiliaryObjective.NgmgKind;

    public AuxiliaryTrainingOptions Training { get; init; } = new();

    /// <summary>Noise levels of the accuracy report.</summary>
    public IReadOnlyList<double> Sigmas { get; init; } = [0.1, 0.5, 1, 2, 5];

    /// <summary>
    /// Held-out images to measure the classifier on (e.g. "fashion-mnist:test"): accuracy and guidance-gradient size
    /// over <see cref="Sigmas"/>. Their classes: a label run's labels, or for a features:/gmm: run the mixture
    /// component of highest posterior at each image's own feature (<see cref="EvalFeatures"/>).
    /// </summary>
    public string? EvalSource { get; init; }

    /// <summary>Features (N, D) of <see cref="EvalSource"/>'s images from the run's extractor (features:/gmm: runs).</summary>
    public string? EvalFeatures { get; init; }

    /// <summary>A held-out image lies where the classes overlap when its component's posterior is below this (features:/gmm: runs).</summary>
    public double OverlapBelow { get; init; } = DefaultOverlapBelow;

    public const double DefaultOverlapBelow = 0.9;

    /// <summary>The classifier's .safetensors.</summary>
    public required string Out { get; init; }

    public bool Force { get; init; }
}

/// <summary>A trained classifier: its file, the accuracy on the run's training images noised at each σ, the last losses.</summary>
public sealed record ClassifierResult(string Out, string Objective, int K, double[] Sigmas, double[] Accuracy, double FinalLoss)
{
    /// <summary>The measurement on held-out images (<see cref="ClassifierRequest.EvalSource"/>), if asked for.</summary>
    public AuxiliaryEvaluation? HeldOut { get; init; }
}

/// <summary>
/// Trains (<see cref="Train"/>) and loads (<see cref="Guidance"/>) the auxiliary classifier of a run: classes are the
/// run's components (features:/gmm:) or its label/cluster ids; NGMG is measured against the run's fitted mixture.
/// </summary>
public static class ClassifierStage
{
    public static ClassifierResult Train(ClassifierRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Objective is not (AuxiliaryObjective.NgmgKind or AuxiliaryObjective.CrossEntropyKind))
            throw new SettingException(nameof(request.Objective), $"expected ngmg or ce, got '{request.Objective}'");
        if (request.Training.Steps < 1 || request.Training.Batch < 1) throw new SettingException(nameof(request.Training.Steps), "steps and batch must be at least 1");
        if (request.EvalFeatures != null && request.EvalSource == null) throw new SettingException(nameof(request.EvalSource), "the held-out images are needed with their features");
        if (request.OverlapBelow is <= 0 or > 1) throw new SettingException(nameof(request.OverlapBelow), $"expected a posterior in (0, 1], got {request.OverlapBelow}");
        OutputExistsException.ThrowIfAnyExists(request.Force, [request.Out]);
        var config = RunConfig.Load(request.Run);
        var transform = new TransformOptions { Resolution = config.Resolution, Pad = config.Pad };
        var data = DataSource.Load(config.Source, transform);
        var (targets, objective) = Classes(request.Run, config, data, request.Objective);
        // Held-out classes are checked before the (long) training, so a wrong file fails at once.
        var heldOut = request.EvalSource is string evalSource ? HeldOutClasses(request, config, data, DataSource.Load(evalSource, transform)) : default;
        var (net, losses) = AuxiliaryTraining.Train(data, targets, objective, request.Training);
        var accuracy = AuxiliaryTraining.Accuracy(net, objective, data, targets, request.Sigmas, request.Training.Seed + 1);
        net.SaveSafetensors(request.Out, new Dictionary<string, string>
        {
            ["format"] = "cedm.classifier", ["objective"] = objective.Kind, ["run"] = Path.GetFullPath(request.Run),
            ["width"] = request.Training.Width.ToString(CultureInfo.InvariantCulture), ["outputs"] = objective.Outputs.ToString(CultureInfo.InvariantCulture),
            ["channels"] = data.Channels.ToString(CultureInfo.InvariantCulture), ["k"] = objective.K.ToString(CultureInfo.InvariantCulture),
        });
        double final = losses.TakeLast(Math.Min(20, losses.Length)).Average();
        var evaluation = heldOut.Images is { } images ? AuxiliaryEvaluation.Run(net, objective, images, heldOut.Targets, heldOut.Overlap, request.Sigmas, request.Training.Seed + 2) : null;
        return new ClassifierResult(request.Out, objective.Kind, objective.K, request.Sigmas.ToArray(), accuracy, final) { HeldOut = evaluation };
    }

    /// <summary>The run's class of every training image and the objective of <paramref name="kind"/>.</summary>
    private static (int[] Targets, AuxiliaryObjective Objective) Classes(string run, RunConfig config, ImageDataset data, string kind)
    {
        if (config.Features != null)
        {
            var source = FeatureConditions.Reload(run, config.Features, data);
            return (source.Components, kind == AuxiliaryObjective.NgmgKind ? AuxiliaryObjective.Ngmg(source.Mixture) : AuxiliaryObjective.CrossEntropy(source.Mixture.K));
        }
        var (labels, _) = ConditionSources.Resolve(config.Cond, data);
        if (labels.K == 0) throw new SettingException("Run", $"{run} is unconditional: no classes to learn");
        if (kind == AuxiliaryObjective.NgmgKind) throw new SettingException("Objective", "ngmg needs the fitted mixture of a features:/gmm: run; use ce for label/cluster runs");
        return (labels.Ids!, AuxiliaryObjective.CrossEntropy(labels.K));
    }

    /// <summary>
    /// The held-out images' classes: for a features:/gmm: run the component of highest posterior at each image's own
    /// whitened feature (overlap = that posterior below <see cref="ClassifierRequest.OverlapBelow"/>); for a label run
    /// its labels in the training run's numbering. A cluster run's ids mean nothing for new images: refused.
    /// </summary>
    private static (ImageDataset Images, int[] Targets, bool[]? Overlap) HeldOutClasses(ClassifierRequest request, RunConfig config, ImageDataset train, ImageDataset images)
    {
        if (config.Features != null)
        {
            string path = request.EvalFeatures ?? throw new SettingException(nameof(request.EvalFeatures),
                "a features:/gmm: run's held-out classes are its mixture's components at the images' own features: give the held-out images' features (same extractor as the run's)");
            var (space, mixture) = FeatureConditionConfig.Load(request.Run);
            var a = Features.FeatureFile.ReadValidated(path);
            if (a.Shape[0] != images.Count) throw new InvalidDataException($"{path}: {a.Shape[0]} feature rows for {images.Count} images of {images.Name}");
            if (a.Shape[1] != space.InputDimension) throw new InvalidDataException($"{path}: {a.Shape[1]} feature dimensions, the run was fitted on {space.InputDimension} ({config.Features.Features})");
            var z = space.Apply(a.ToFloat32(), images.Count);
            var posterior = new MixtureObjective(mixture);
            int d = space.Dimension;
            var targets = new int[images.Count];
            var overlap = new bool[images.Count];
            var e = new double[d];
            for (int i = 0; i < images.Count; i++)
            {
                for (int j = 0; j < d; j++) e[j] = z[i * d + j];
                (targets[i], double p) = posterior.MostLikely(e);
                overlap[i] = p < request.OverlapBelow;
            }
            return (images, targets, overlap);
        }
        if (request.EvalFeatures != null) throw new SettingException(nameof(request.EvalFeatures), "held-out features are for features:/gmm: runs");
        if (config.Cond != "labels") throw new SettingException(nameof(request.EvalSource), $"held-out classes exist for label runs and features:/gmm: runs (their mixture); this run conditions on '{config.Cond}', whose ids are not defined for new images");
        if (images.Labels is null) throw new SettingException(nameof(request.EvalSource), $"{images.Name} has no labels");
        var used = ConditionSources.Resolve(config.Cond, train).Labels.Used;
        var index = used.Select((v, i) => (v, i)).ToDictionary(t => t.v, t => t.i);
        var ids = images.Labels.Select(l => index.TryGetValue(l, out int i) ? i
            : throw new InvalidDataException($"{images.Name}: label {l} does not occur in the run's training images")).ToArray();
        return (images, ids, null);
    }

    /// <summary>Classifier guidance for <paramref name="generator"/>'s run with the classifier in <paramref name="path"/>.</summary>
    public static Func<IDenoiser, IDenoiser> Guidance(string path, Generator generator, double weight)
    {
        ArgumentNullException.ThrowIfNull(generator);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such classifier file", path);
        var meta = Safetensors.Read(path).Metadata;
        int Int(string key) => meta.TryGetValue(key, out var v) && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i)
            ? i : throw new InvalidDataException($"{path}: not a `cedm classifier` file (no '{key}' in its metadata)");
        string kind = meta.TryGetValue("objective", out var o) ? o : throw new InvalidDataException($"{path}: not a `cedm classifier` file");
        int outputs = Int("outputs"), channels = Int("channels"), k = Int("k"), width = Int("width");
        if (channels != generator.Config.Channels) throw new InvalidDataException($"{path}: a classifier of {channels}-channel images; the run has {generator.Config.Channels}");
        MixtureObjective? mixture = null;
        AuxiliaryObjective objective;
        if (generator.FeatureConditioned)
        {
            var (_, m) = FeatureConditionConfig.Load(generator.Run);
            mixture = new MixtureObjective(m);
            objective = kind == AuxiliaryObjective.NgmgKind ? AuxiliaryObjective.Ngmg(m) : AuxiliaryObjective.CrossEntropy(m.K);
        }
        else
        {
            if (kind == AuxiliaryObjective.NgmgKind) throw new InvalidDataException($"{path}: an NGMG classifier needs a features:/gmm: run");
            objective = AuxiliaryObjective.CrossEntropy(generator.Map.K);
        }
        if (objective.Outputs != outputs || objective.K != k) throw new InvalidDataException($"{path}: {outputs} outputs for {k} classes; this run needs {objective.Outputs} for {objective.K}");
        var net = new NoisyClassifier(channels, outputs, new Rng(0), width);
        net.LoadSafetensors(path);
        return inner => new ClassifierGuidedDenoiser(inner, net, objective, weight, mixture);
    }
}
