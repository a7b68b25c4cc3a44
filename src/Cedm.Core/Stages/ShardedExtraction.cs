using System.Runtime.InteropServices;
using Cedm.Data;
using Cedm.Distributed;
using Cedm.Features;
using Cedm.Tensors;

namespace Cedm.Stages;

/// <summary>
/// Feature extraction split over the ranks of a job (docs/distributed.md): each rank extracts its contiguous slice
/// of the images (<see cref="CommunicatorExtensions.Shard(ICommunicator, int)"/>) and rank 0 gathers the rows in
/// image order. An extractor maps each image on its own, so the rows are those of one process.
/// </summary>
public static class ShardedExtraction
{
    /// <summary>The [N, D] features of <paramref name="images"/> on rank 0; null on the other ranks.</summary>
    public static Tensor? Extract(IFeatureExtractor extractor, ImageDataset images, ICommunicator comm, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(extractor);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(comm);
        if (comm.Size == 1) return extractor.Extract(images, progress);
        var (lo, hi) = comm.Shard(images.Count);
        var mine = extractor.Extract(images.Select(Enumerable.Range(lo, hi - lo).ToArray()), progress);
        byte[] all = comm.Gather(MemoryMarshal.AsBytes(mine.Data.AsSpan()));
        return comm.IsRoot() ? new Tensor(MemoryMarshal.Cast<byte, float>(all).ToArray(), images.Count, extractor.Dimension) : null;
    }
}
