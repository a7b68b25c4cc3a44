using System.Diagnostics;
using Cedm.Clustering;
using Cedm.IO;
using Cedm.Tensors;

namespace Cedm.Stages;

/// <summary>What `cedm cluster` computes: a features file clustered into an output folder.</summary>
public sealed record ClusteringRequest
{
    public required string Features { get; init; }

    public required ClusteringSettings Settings { get; init; }

    public required string Out { get; init; }

    public int Seed { get; init; }

    public bool Force { get; init; }

    /// <summary>Every file a cluster folder may hold (all are replaced together with <see cref="Force"/>).</summary>
    public static readonly string[] OutputFiles =
        [ClusterAssignment.IdsFile, ClusterAssignment.JsonFile, ClusterAssignment.ConfidenceFile, ClusterModels.FileName, ClusterTree.FileName, ClusteringRecord.FileName];

    /// <summary>
    /// The folder's files as one <see cref="OutputSet"/>: options.json, written last, marks a finished clustering;
    /// confidence.npy, written first, marks the leftovers of an interrupted one (replaced without --force).
    /// </summary>
    public OutputSet Files() => new(Path.Combine(Out, ClusteringRecord.FileName), Path.Combine(Out, ClusterAssignment.ConfidenceFile),
        OutputFiles.Select(f => (string?)Path.Combine(Out, f)).ToArray());
}

/// <summary>The written clustering.</summary>
public sealed record ClusteringResult(ClusterAssignment Assignment, ClusteringRecord Record, string Folder);

/// <summary>
/// The clustering stage: validated features → the method of <see cref="ClusteringMethods"/> → ids.npy, probs.npy,
/// confidence.npy, clusters.json (<see cref="ClusterAssignment"/>), the fitted model and options.json
/// (<see cref="ClusteringRecord"/>).
/// </summary>
public static class ClusterStage
{
    public static ClusteringResult Run(ClusteringRequest request, IStageObserver? observer = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        observer ??= StageObserver.None;
        request.Settings.Validate();
        var settings = request.Settings;
        var (x, imageShape) = ClusteringInputs.Read(request.Features, settings.Method);
        if (imageShape != null) settings = settings with { ImageShape = imageShape };
        int n = x.Shape[0], k = settings.K;
        if (k > n) throw new SettingException(nameof(request.Settings.K), $"{k} is larger than the number of points in {request.Features} (N = {n})");
        using var folderLock = FolderLock.Acquire(request.Out);
        request.Files().CheckWritable(request.Force);
        var clusterer = ClusteringMethods.Create(settings);
        var clock = Stopwatch.StartNew();
        var assignment = clusterer.Fit(x, new Rng(request.Seed), observer.Fraction($"{request.Settings.Method} K={k}"));
        double seconds = clock.Elapsed.TotalSeconds;

        // Checked above as one set: what is there now is either allowed by --force or left by an interrupted run.
        assignment.Save(request.Out, overwrite: true);
        ClusteringMethods.SaveModel(clusterer, request.Out, overwrite: true);
        var record = new ClusteringRecord
        {
            Features = ClusteringInputs.Describe(request.Features, settings.Method), Method = request.Settings.Method, K = k, Seed = request.Seed,
            N = n, D = x.Shape[1], Seconds = seconds, Fit = assignment.Options?.DeepClone(),
        };
        record.Save(request.Out);
        return new ClusteringResult(assignment, record, request.Out);
    }
}
