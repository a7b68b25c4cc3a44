using Cedm.Clustering.Bounds;
using Cedm.Distributed;
using Cedm.Features;
using Cedm.IO;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Stages;

/// <summary>What the search runs on: rows searched, their dimension, and the rows of the data set (the data cap's N).</summary>
public sealed record BoundStart(int Rows, int Dimension, int DataRows);

/// <summary>What `cedm bound` computes: the upper cluster bound of a features file, written to a bound.json.</summary>
public sealed record BoundRequest
{
    public required string Features { get; init; }

    public required string Out { get; init; }

    public BoundOptions Options { get; init; } = new();

    /// <summary>Search on at most this many rows, drawn at random with the options' seed; null = all rows.</summary>
    public int? MaxRows { get; init; }

    public bool Force { get; init; }

    public void Validate()
    {
        if (!Out.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) throw new ArgumentException($"expected a .json file name, got {Out}", nameof(Out));
        OutputExistsException.ThrowIfAnyExists(Force, Out);
        if (MaxRows is < 2) throw new ArgumentException($"must be at least 2, got {MaxRows}", nameof(MaxRows));
        Options.Validate();
    }
}

/// <summary>
/// The bound stage (spec §5.2): validated features, optionally a random subset of rows, the TEMI utilisation-ratio
/// search (<see cref="ClusterBoundSearch"/>), bound.json (<see cref="BoundFile"/>).
/// In a job of several ranks (<see cref="Communicator.World"/>, docs/distributed.md) every rank reads the features and
/// trains its share of each round's TEMI runs; rank 0 writes bound.json.
/// </summary>
public static class BoundStage
{
    /// <param name="request">What to search and where to write.</param>
    /// <param name="observer">Progress of the current TEMI run.</param>
    /// <param name="rowFinished">Called after every TEMI run, e.g. to print the table as it grows.</param>
    /// <param name="started">Called once the features are read, before the first TEMI run (e.g. to print the caps).</param>
    /// <param name="communicator">The job whose ranks share the runs; null = <see cref="Communicator.World"/>.</param>
    public static (BoundResult Result, int Rows, int Dimension) Run(BoundRequest request, IStageObserver? observer = null, Action<BoundRow>? rowFinished = null,
        Action<BoundStart>? started = null, ICommunicator? communicator = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var comm = communicator ?? Communicator.World;
        observer ??= StageObserver.None;
        request.Validate();
        var x = FeatureFile.ReadMatrix(request.Features);
        if (x.Dim(0) < 2) throw new InvalidDataException($"{request.Features}: the bound search needs at least 2 feature rows");
        // The data cap is about the data set, so a subsample keeps the file's row count as its N.
        var options = request.Options.DataRows > 0 ? request.Options : request.Options with { DataRows = x.Dim(0) };
        if (request.MaxRows is int limit && limit < x.Dim(0))
        {
            var rows = new Rng((ulong)request.Options.Seed ^ 0x5EEDUL).Permutation(x.Dim(0)).Take(limit).Order().ToArray();
            using (GradMode.NoGrad()) x = x.IndexSelect(rows);
        }
        started?.Invoke(new BoundStart(x.Dim(0), x.Dim(1), options.DataRows));
        var result = new ClusterBoundSearch(options)
        {
            Communicator = comm,
            RowFinished = rowFinished,
            RunProgress = (k, f) => observer.Progress(f, $"TEMI K={k}"),
        }.Run(x);
        if (comm.IsRoot()) BoundFile.Save(request.Out, result, options, x.Dim(0), request.Force);
        return (result, x.Dim(0), x.Dim(1));
    }
}
