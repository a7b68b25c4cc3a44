using System.Diagnostics;
using Cedm.Clustering;
using Cedm.Features;
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
        var x = FeatureFile.ReadMatrix(request.Features);
        int n = x.Shape[0], k = request.Settings.K;
        if (k > n) throw new SettingException(nameof(request.Settings.K), $"{k} is larger than the number of points in {request.Features} (N = {n})");
        OutputExistsException.ThrowIfAnyExists(request.Force, ClusteringRequest.OutputFiles.Select(f => Path.Combine(request.Out, f)));

        using var folderLock = FolderLock.Acquire(request.Out);
        var clusterer = ClusteringMethods.Create(request.Settings);
        var clock = Stopwatch.StartNew();
        var assignment = clusterer.Fit(x, new Rng(request.Seed), observer.Fraction($"{request.Settings.Method} K={k}"));
        double seconds = clock.Elapsed.TotalSeconds;

        assignment.Save(request.Out, request.Force);
        ClusteringMethods.SaveModel(clusterer, request.Out, request.Force);
        var record = new ClusteringRecord
        {
            Features = Path.GetFullPath(request.Features), Method = request.Settings.Method, K = k, Seed = request.Seed,
            N = n, D = x.Shape[1], Seconds = seconds, Fit = assignment.Options?.DeepClone(),
        };
        record.Save(request.Out);
        return new ClusteringResult(assignment, record, request.Out);
    }
}
