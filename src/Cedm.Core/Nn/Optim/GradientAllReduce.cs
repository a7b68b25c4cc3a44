using System.Diagnostics;
using System.Threading.Channels;
using Cedm.Distributed;
using Cedm.Tensors;

namespace Cedm.Nn.Optim;

/// <summary>
/// Data-parallel gradient averaging (docs/distributed.md): every gradient g becomes Σ_ranks weight_r·g_r (weight =
/// the rank's share of the global batch), so every rank takes the same optimiser step. Parameters are grouped into
/// buckets of about <see cref="BucketBytes"/> in reverse parameter order — the order backward finishes them — the way
/// PyTorch DDP and Horovod fuse small tensors (one collective per few MB instead of one per tensor).
/// <para>Overlapped use, per step: <see cref="BeginStep"/>, then <see cref="GradientReady"/> from backward for each
/// parameter whose gradient is final (<see cref="TrainingPass.Run"/>'s callback); a bucket whose parameters are all
/// final goes to a communication thread, which packs, all-reduces and unpacks it while backward continues; buckets
/// are reduced in one fixed order on every rank. <see cref="EndStep"/> reduces what never became ready (parameters
/// without a gradient count as zeros) and waits. <see cref="LastSeconds"/> is the communication thread's busy time,
/// <see cref="LastWaitSeconds"/> the part backward did not hide. <see cref="Reduce"/> does the same after backward,
/// without overlap.</para>
/// </summary>
public sealed class GradientAllReduce
{
    /// <summary>Default bucket size, 4 MiB (DDP's first bucket is 1 MB, later ones 25 MB; Horovod fuses 64 MB).</summary>
    public const int DefaultBucketBytes = 4 << 20;

    private readonly ICommunicator _comm;
    private readonly Tensor[][] _buckets;
    private readonly float[][] _buffers;
    private readonly Dictionary<Tensor, int> _bucketOf = new(ReferenceEqualityComparer.Instance);
    private readonly int[] _pending;
    private readonly bool[] _ready;
    private int _nextToLaunch;
    private float _weight = 1f;
    private Channel<int>? _queue;
    private Task? _worker;
    private bool _inStep;
    private Exception? _failure;
    private long _busyTicks;

    public GradientAllReduce(ICommunicator comm, IEnumerable<Tensor> parameters, int bucketBytes = DefaultBucketBytes)
    {
        ArgumentNullException.ThrowIfNull(comm);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketBytes, sizeof(float));
        _comm = comm;
        BucketBytes = bucketBytes;
        var buckets = new List<List<Tensor>>();
        long filled = 0;
        foreach (var p in parameters.Reverse())
        {
            if (buckets.Count == 0 || (filled + p.Size > bucketBytes / sizeof(float) && filled > 0)) { buckets.Add([]); filled = 0; }
            buckets[^1].Add(p);
            filled += p.Size;
        }
        _buckets = buckets.Select(b => b.ToArray()).ToArray();
        _buffers = _buckets.Select(b => new float[Math.Max(1, b.Sum(p => p.Size))]).ToArray();
        for (int i = 0; i < _buckets.Length; i++)
            foreach (var p in _buckets[i]) _bucketOf[p] = i;
        _pending = new int[_buckets.Length];
        _ready = new bool[_buckets.Length];
    }

    public int BucketBytes { get; }

    /// <summary>Collectives per step: one per bucket (a parameter larger than a bucket gets one of its own).</summary>
    public int Buckets => _buckets.Length;

    /// <summary>Seconds the last step spent packing, reducing and unpacking gradients.</summary>
    public double LastSeconds { get; private set; }

    /// <summary>Seconds the last step waited for reductions after backward (the part not hidden behind it).</summary>
    public double LastWaitSeconds { get; private set; }

    /// <summary>Replaces every gradient g by Σ_ranks weight_r·g_r after backward (no overlap).</summary>
    public void Reduce(float weight)
    {
        var clock = Stopwatch.StartNew();
        _weight = weight;
        for (int i = 0; i < _buckets.Length; i++) ReduceBucket(i);
        LastSeconds = LastWaitSeconds = clock.Elapsed.TotalSeconds;
    }

    /// <summary>Starts a step whose gradients will be announced by <see cref="GradientReady"/>.</summary>
    public void BeginStep(float weight)
    {
        if (_inStep) throw new InvalidOperationException("BeginStep twice without EndStep");
        _queue = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        _worker = Task.Factory.StartNew(Work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        _inStep = true;
        _weight = weight;
        _failure = null;
        _nextToLaunch = 0;
        Interlocked.Exchange(ref _busyTicks, 0);
        for (int i = 0; i < _buckets.Length; i++) { _pending[i] = _buckets[i].Length; _ready[i] = false; }
    }

    /// <summary>Backward's callback: <paramref name="leaf"/>'s gradient is final. Other tensors are ignored.</summary>
    public void GradientReady(Tensor leaf)
    {
        if (!_inStep || !_bucketOf.TryGetValue(leaf, out int b) || _ready[b]) return;
        if (--_pending[b] > 0) return;
        _ready[b] = true;
        LaunchReady();
    }

    private void LaunchReady()
    {
        while (_nextToLaunch < _buckets.Length && _ready[_nextToLaunch]) _queue!.Writer.TryWrite(_nextToLaunch++);
    }

    /// <summary>Reduces the buckets backward did not finish (zeros for parameters without a gradient) and waits for all.</summary>
    public void EndStep()
    {
        if (!_inStep) throw new InvalidOperationException("EndStep without BeginStep");
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < _buckets.Length; i++) _ready[i] = true;
        LaunchReady();
        _queue!.Writer.Complete();
        _worker!.Wait();
        _inStep = false;
        LastWaitSeconds = clock.Elapsed.TotalSeconds;
        LastSeconds = Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _busyTicks)).TotalSeconds;
        if (_failure != null) throw new InvalidOperationException($"the gradient all-reduce failed: {_failure.Message}", _failure);
    }

    private void Work()
    {
        var reader = _queue!.Reader;
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        while (reader.TryRead(out int b))
        {
            long t0 = Stopwatch.GetTimestamp();
            try { if (_failure == null) ReduceBucket(b); }
            catch (Exception e) { _failure = e; }
            Interlocked.Add(ref _busyTicks, Stopwatch.GetTimestamp() - t0);
        }
    }

    private void ReduceBucket(int b)
    {
        var buffer = _buffers[b];
        int at = 0;
        foreach (var p in _buckets[b])
        {
            p.Grad ??= new Tensor(new float[p.Size], p.ShapeArray());
            var dst = buffer.AsSpan(at, p.Size);
            p.Grad.Data.AsSpan().CopyTo(dst);
            if (_weight != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(dst, _weight, dst);
            foreach (ref float v in dst)   // GradientUtils.SanitizeGradients' rule, before one rank's NaN spoils the sum
                if (!float.IsFinite(v)) v = float.IsNaN(v) ? 0f : v > 0 ? 1e5f : -1e5f;
            at += p.Size;
        }
        _comm.AllReduceSum(buffer.AsSpan(0, at));
        at = 0;
        foreach (var p in _buckets[b])
        {
            buffer.AsSpan(at, p.Size).CopyTo(p.Grad!.Data);
            at += p.Size;
        }
    }
}
