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

    /// <summary>The classifier's .safetensors.</summary>
    public required string Out { get; init; }

    public bool Force { get; init; }
}

/// <summary>A trained classifier: its file, the accuracy on the run's training images noised at each σ, the last losses.</summary>
public sealed record ClassifierResult(string Out, string Objective, int K, double[] Sigmas, double[] Accuracy, double FinalLoss);

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
        OutputExistsException.ThrowIfAnyExists(request.Force, [request.Out]);
        var config = RunConfig.Load(request.Run);
        var data = DataSource.Load(config.Source, new TransformOptions { Resolution = config.Resolution, Pad = config.Pad });
        var (targets, objective) = Classes(request.Run, config, data, request.Objective);
        var (net, losses) = AuxiliaryTraining.Train(data, targets, objective, request.Training);
        var accuracy = AuxiliaryTraining.Accuracy(net, objective, data, targets, request.Sigmas, request.Training.Seed + 1);
        net.SaveSafetensors(request.Out, new Dictionary<string, string>
        {
            ["format"] = "cedm.classifier", ["objective"] = objective.Kind, ["run"] = Path.GetFullPath(request.Run),
            ["width"] = request.Training.Width.ToString(CultureInfo.InvariantCulture), ["outputs"] = objective.Outputs.ToString(CultureInfo.InvariantCulture),
            ["channels"] = data.Channels.ToString(CultureInfo.InvariantCulture), ["k"] = objective.K.ToString(CultureInfo.InvariantCulture),
        });
        double final = losses.TakeLast(Math.Min(20, losses.Length)).Average();
        return new ClassifierResult(request.Out, objective.Kind, objective.K, request.Sigmas.ToArray(), accuracy, final);
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
