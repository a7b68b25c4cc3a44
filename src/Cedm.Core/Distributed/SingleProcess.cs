namespace Cedm.Distributed;

/// <summary>The job of one process: size 1, rank 0, every collective a copy or nothing.</summary>
public sealed class SingleProcess : ICommunicator
{
    public static SingleProcess Instance { get; } = new();

    public int Size => 1;

    public int Rank => 0;

    public string Description => "single process";

    public void AllReduceSum(Span<float> data) { }

    public void AllReduceSum(Span<double> data) { }

    public void Broadcast(Span<byte> data, int root = 0) => CheckRoot(root);

    public void Broadcast(Span<float> data, int root = 0) => CheckRoot(root);

    public byte[] Gather(ReadOnlySpan<byte> mine, int root = 0)
    {
        CheckRoot(root);
        return mine.ToArray();
    }

    public void Barrier() { }

    public void Abort(int code) => Environment.Exit(code);

    public void Dispose() { }

    private static void CheckRoot(int root)
    {
        if (root != 0) throw new ArgumentOutOfRangeException(nameof(root), root, "a single-process job has only rank 0");
    }
}
