using System.Diagnostics;
using System.Text.Json.Nodes;
using Cedm.Data;
using Cedm.Distributed;
using Cedm.Features;
using Cedm.Features.Ssl;
using Cedm.IO;
using Cedm.Tensors;

namespace Cedm.Stages;

/// <summary>What `cedm features` computes: a source's images through an extractor into a features file.</summary>
public sealed record FeatureRequest
{
    /// <summary>The images (cli.md "Data sources").</summary>
    public required string Source { get; init; }

    /// <summary>Extractor spec (<see cref="FeatureExtractors.Syntax"/>).</summary>
    public string Extractor { get; init; } = "pca:64";

    /// <summary>The features file (.npy); its side files go beside it.</summary>
    public required string Out { get; init; }

    /// <summary>Source a fitted extractor (PCA, ssl) is fitted on; null = <see cref="Source"/>.</summary>
    public string? FitOn { get; init; }

    /// <summary>A saved extractor model to apply instead of fitting.</summary>
    public string? Model { get; init; }

    public TransformOptions Transform { get; init; } = TransformOptions.None;

    /// <summary>Training settings of `ssl` (null: <see cref="SslOptions"/> with <see cref="Seed"/>).</summary>
    public SslOptions? Ssl { get; init; }

    public int Seed { get; init; }

    /// <summary>Overwrite existing outputs.</summary>
    public bool Force { get; init; }

    /// <summary>Every file the request writes: the features, their side file and, for a model trained here, the model.</summary>
    public IReadOnlyList<string> Outputs() =>
        FeatureExtractors.Parse(Extractor) is ("ssl", "" or "quick") ? [Out, FeatureFile.SidePath(Out), FeatureFile.SslModelPath(Out)] : [Out, FeatureFile.SidePath(Out)];

    private static bool SamePath(string a, string b) =>
        string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    public void Validate()
    {
        if (!Out.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)) throw new ArgumentException($"expected a .npy file name, got {Out}", nameof(Out));
        if (string.IsNullOrWhiteSpace(Extractor) || !FeatureExtractors.Kinds.Contains(FeatureExtractors.Parse(Extractor).Kind))
            throw new SettingException(nameof(Extractor), $"unknown extractor '{Extractor}'; expected {FeatureExtractors.Syntax}");
        if (Model is { Length: 0 }) throw new SettingException(nameof(Model), "give a model file");
        if (FitOn is not null)
        {
            try { DataSource.Parse(FitOn); }
            catch (FormatException e) { throw new SettingException(nameof(FitOn), e.Message); }
        }
        OutputExistsException.ThrowIfAnyExists(Force, Outputs());
        // --force must never replace what the request reads: the images, their labels or the model.
        var inputs = new List<string?> { Model };
        foreach (var src in new[] { Source, FitOn })
            if (src is not null && DataSource.Parse(src) is NpyFilesSource files) inputs.AddRange([files.ImagesPath, files.LabelsPath]);
        foreach (var input in inputs)
            if (input is not null && Outputs().Any(o => SamePath(o, input)))
                throw new ArgumentException($"{input} is also an input of this command; choose another output", nameof(Out));
        if (Model is not null && !File.Exists(Model)) throw new ArgumentException($"{Model} does not exist", nameof(Model));
        Transform.Validate();
        Ssl?.Validate();
    }
}

/// <summary>The features written and what made them.</summary>
public sealed record FeatureResult(string Path, int Rows, int Dimension, string ExtractorName, string? FittedModel, JsonObject Info, double Seconds);

/// <summary>
/// The feature stage: loads the source, builds the extractor (fitting PCA or training ssl when asked), extracts
/// [N, D] features and writes them with their side file (<see cref="FeatureFile"/>), plus the fitted model beside
/// them so the same map can be applied to other images ("resolved" spec in the side file).
/// In a data-parallel job (<see cref="Communicator.World"/>, docs/distributed.md) each rank extracts the features of
/// its contiguous slice of the images and rank 0 gathers the rows in image order and writes the files; an extractor
/// that must first be fitted (PCA without --model, ssl training) is refused there: fit it once in one process and
/// extract with its saved model.
/// </summary>
public static class FeatureStage
{
    public static FeatureResult Run(FeatureRequest request, IStageObserver? observer = null, ICommunicator? communicator = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var comm = communicator ?? Communicator.World;
        observer ??= StageObserver.None;
        request.Validate();
        var clock = Stopwatch.StartNew();
        var dataset = DataSource.Load(request.Source, request.Transform);
        if (dataset.Count == 0) throw new InvalidDataException($"{dataset.Name} has no images");
        var ssl = request.Ssl ?? new SslOptions { Seed = request.Seed };
        bool fitted = false;
        var context = new FeatureExtractorContext
        {
            ImageShape = (dataset.Height, dataset.Width, dataset.Channels),
            FitData = () =>
            {
                if (comm.Size > 1)
                    throw new SettingException(nameof(request.Model), $"extractor {request.Extractor} needs fitting, which does not run on {comm.Size} ranks; fit it in one process (`cedm features` without mpirun) and pass its saved model");
                fitted = true;
                return request.FitOn is null ? dataset : DataSource.Load(request.FitOn, request.Transform);
            },
            ModelPath = request.Model,
            Seed = request.Seed,
            Ssl = ssl,
            Progress = observer.Part(0, 0.5, "fitting the extractor"),
            Log = observer.Note,
        };
        var fx = FeatureExtractors.Create(request.Extractor, context);
        var (lo, hi) = comm.Shard(dataset.Count);
        string what = comm.Size == 1 ? $"{dataset.Count} images" : $"{hi - lo} of {dataset.Count} images";
        var extracted = ShardedExtraction.Extract(fx, dataset, comm, observer.Part(fitted ? 0.5 : 0, fitted ? 0.5 : 1, what));
        if (extracted is not Tensor features)
            return new FeatureResult(request.Out, hi - lo, fx.Dimension, fx.Name, null, new JsonObject(), clock.Elapsed.TotalSeconds);

        string? savedModel = request.Model, fittedModel = null;
        if (fitted && fx is PcaFeatures pca)
        {
            savedModel = fittedModel = FeatureFile.ModelPath(request.Out);
            pca.Save(savedModel, request.Force, new Dictionary<string, string> { ["fit_on"] = request.FitOn ?? request.Source });
        }
        if (fitted && fx is SslFeatures trained)
        {
            savedModel = fittedModel = FeatureFile.SslModelPath(request.Out);
            trained.Save(savedModel, request.Force);
        }
        var info = new JsonObject
        {
            ["extractor"] = request.Extractor,
            ["resolved"] = FeatureExtractors.Resolved(fx, savedModel),
            ["model"] = savedModel is null ? null : System.IO.Path.GetFullPath(savedModel),
            ["source"] = request.Source,
            ["fit_on"] = fitted ? request.FitOn ?? request.Source : null,
            ["transform"] = new JsonObject { ["resolution"] = request.Transform.Resolution, ["pad"] = request.Transform.Pad },
            ["seed"] = request.Seed,
            ["pixel_range"] = "0..1 (u/255), HWC order",
        };
        if (fx is SslFeatures { Report: { } r })
            info["ssl_training"] = new JsonObject
            {
                ["steps"] = r.Steps, ["images_seen"] = r.ImagesSeen, ["final_loss"] = r.FinalLoss, ["seconds"] = r.Seconds,
                ["stopped_by_time"] = r.StoppedByTime, ["minutes"] = ssl.Minutes, ["batch"] = ssl.BatchSize,
            };
        FeatureFile.Write(request.Out, features, info, request.Force);
        return new FeatureResult(request.Out, features.Shape[0], features.Shape[1], fx.Name, fittedModel, info, clock.Elapsed.TotalSeconds);
    }
}
