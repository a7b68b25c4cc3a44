using System.Diagnostics;
using Cedm.Distributed;
using Cedm.Tensors;

namespace Cedm.Nn.Optim;

/// <summary>
/// Data-parallel gradient averaging (docs/distributed.md): after backward, the gradients of all parameters, taken as
/// one vector in parameter order, are scaled by this rank's weight and summed over ranks in buckets of
/// <see cref="BucketBytes"/> (the way PyTorch DDP and Horovod fuse small tensors: one collective per few MB instead
/// of one per tensor, and no copy of the whole model). Every rank ends with the same gradients, so the same
/// optimiser step keeps the replicas identical. A parameter without a gradient on this rank counts as zeros and
/// receives the sum. The reduction starts after backward has finished (not overlapped with it); the time it takes is
/// in <see cref="LastSeconds"/>.
/// </summary>
public sealed class GradientAllReduce
{
    /// <summary>Default bucket size, 4 MiB (DDP's first bucket is 1 MB, later ones 25 MB; Horovod fuses 64 MB).</summary>
    public const int DefaultBucketBytes = 4 << 20;

    private readonly ICommunicator _comm;
    private readonly Tensor[] _parameters;
    private readonly float[] _bucket;

    public GradientAllReduce(ICommunicator comm, IEnumerable<Tensor> parameters, int bucketBytes = DefaultBucketBytes)
    {
        ArgumentNullException.ThrowIfNull(comm);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketBytes, sizeof(float));
        _comm = comm;
        _parameters = parameters.ToArray();
        long total = _parameters.Sum(p => (long)p.Size);
        _bucket = new float[Math.Max(1, Math.Min(total, bucketBytes / sizeof(float)))];
        BucketBytes = bucketBytes;
    }

    public int BucketBytes { get; }

    /// <summary>Collectives per <see cref="Reduce"/> (the model's float count over the bucket size, rounded up).</summary>
    public int Buckets => (int)((_parameters.Sum(p => (long)p.Size) + _bucket.Length - 1) / _bucket.Length);

    /// <summary>Wall-clock seconds of the last <see cref="Reduce"/> (packing, collectives, unpacking).</summary>
    public double LastSeconds { get; private set; }

    /// <summary>Replaces every gradient g by Σ_ranks weight_r·g_r (weight = this rank's share of the global batch).</summary>
    public void Reduce(float weight)
    {
        var clock = Stopwatch.StartNew();
        int filled = 0;
        var pending = new List<(Tensor P, int Offset, int Length, int At)>();
        foreach (var p in _parameters)
        {
            p.Grad ??= new Tensor(new float[p.Size], p.ShapeArray());
            var g = p.Grad.Data;
            for (int offset = 0; offset < p.Size;)
            {
                int n = Math.Min(p.Size - offset, _bucket.Length - filled);
                var dst = _bucket.AsSpan(filled, n);
                g.AsSpan(offset, n).CopyTo(dst);
                if (weight != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(dst, weight, dst);
                pending.Add((p, offset, n, filled));
                filled += n; offset += n;
                if (filled == _bucket.Length) { Flush(pending, filled); filled = 0; }
            }
        }
        if (filled > 0) Flush(pending, filled);
        LastSeconds = clock.Elapsed.TotalSeconds;
    }

    private void Flush(List<(Tensor P, int Offset, int Length, int At)> pending, int filled)
    {
        _comm.AllReduceSum(_bucket.AsSpan(0, filled));
        foreach (var (p, offset, length, at) in pending) _bucket.AsSpan(at, length).CopyTo(p.Grad!.Data.AsSpan(offset, length));
        pending.Clear();
    }
}
