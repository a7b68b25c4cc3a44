namespace Cedm.Distributed;

/// <summary>
/// The processes of one job and the few collective operations data-parallel work needs (docs/distributed.md).
/// Every rank must make the same calls in the same order with the same lengths; a collective some rank never
/// reaches waits for it (a rank that fails calls <see cref="Abort"/>, which ends every rank).
/// <see cref="SingleProcess"/> is the one-process job; <see cref="OpenMpiCommunicator"/> binds Open MPI at run time.
/// </summary>
public interface ICommunicator : IDisposable
{
    /// <summary>Number of ranks (processes) in the job.</summary>
    int Size { get; }

    /// <summary>This process's rank, 0 ≤ Rank &lt; Size; rank 0 writes the files.</summary>
    int Rank { get; }

    /// <summary>What runs the job, for logs ("single process", "Open MPI (libmpi.so.40), 4 ranks").</summary>
    string Description { get; }

    /// <summary>Replaces <paramref name="data"/> on every rank by the element-wise sum over ranks.</summary>
    void AllReduceSum(Span<float> data);

    /// <summary>Replaces <paramref name="data"/> on every rank by the element-wise sum over ranks.</summary>
    void AllReduceSum(Span<double> data);

    /// <summary>Copies <paramref name="root"/>'s <paramref name="data"/> into every other rank's.</summary>
    void Broadcast(Span<byte> data, int root = 0);

    /// <summary>Copies <paramref name="root"/>'s <paramref name="data"/> into every other rank's.</summary>
    void Broadcast(Span<float> data, int root = 0);

    /// <summary>
    /// Concatenates every rank's <paramref name="mine"/> in rank order on <paramref name="root"/> (lengths may differ);
    /// other ranks get an empty array.
    /// </summary>
    byte[] Gather(ReadOnlySpan<byte> mine, int root = 0);

    /// <summary>Returns when every rank has called it.</summary>
    void Barrier();

    /// <summary>Ends every rank of the job with exit code <paramref name="code"/>; does not return.</summary>
    void Abort(int code);
}

/// <summary>Conveniences over <see cref="ICommunicator"/>.</summary>
public static class CommunicatorExtensions
{
    /// <summary>Whether this rank writes files and logs (rank 0).</summary>
    public static bool IsRoot(this ICommunicator comm) => comm.Rank == 0;

    /// <summary>
    /// The half-open range [Start, End) of <paramref name="count"/> items rank <paramref name="rank"/> of
    /// <paramref name="size"/> takes: contiguous slices in rank order whose lengths differ by at most one, so the
    /// slices of ranks 0..size−1 concatenate to 0..count−1.
    /// </summary>
    public static (int Start, int End) Shard(int count, int rank, int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (size < 1 || rank < 0 || rank >= size) throw new ArgumentOutOfRangeException(nameof(rank), $"rank {rank} of {size}");
        return ((int)((long)count * rank / size), (int)((long)count * (rank + 1) / size));
    }

    /// <summary>This rank's slice of <paramref name="count"/> items (<see cref="Shard(int, int, int)"/>).</summary>
    public static (int Start, int End) Shard(this ICommunicator comm, int count) => Shard(count, comm.Rank, comm.Size);

    /// <summary>Root's value of <paramref name="value"/> on every rank.</summary>
    public static long BroadcastInt64(this ICommunicator comm, long value, int root = 0)
    {
        Span<byte> b = stackalloc byte[8];
        BitConverter.TryWriteBytes(b, value);
        comm.Broadcast(b, root);
        return BitConverter.ToInt64(b);
    }

    /// <summary>Root's bytes on every rank, whatever their length (the other ranks' <paramref name="value"/> is ignored).</summary>
    public static byte[] BroadcastBytes(this ICommunicator comm, byte[]? value, int root = 0)
    {
        if (comm.Size == 1) return value ?? [];
        var data = new byte[comm.BroadcastInt64(comm.Rank == root ? value?.Length ?? 0 : 0, root)];
        if (comm.Rank == root) value?.CopyTo(data, 0);
        comm.Broadcast(data, root);
        return data;
    }

    /// <summary>Root's text on every rank.</summary>
    public static string BroadcastString(this ICommunicator comm, string? value, int root = 0) =>
        System.Text.Encoding.UTF8.GetString(comm.BroadcastBytes(value is null ? null : System.Text.Encoding.UTF8.GetBytes(value), root));

    /// <summary>Root's flag on every rank (e.g. "stop now", decided by one clock).</summary>
    public static bool BroadcastFlag(this ICommunicator comm, bool value, int root = 0) => comm.BroadcastInt64(value ? 1 : 0, root) != 0;
}
