namespace Cedm.Tensors;

/// <summary>
/// Process-wide compute settings shared by every kernel: how many threads to use.
/// Read once from the environment (<c>CEDM_THREADS</c>); default = all cores. Settable by the CLI/tests.
/// </summary>
public static class ComputeSettings
{
    private static int _threads = ReadThreadsFromEnvironment();

    /// <summary>Number of worker threads kernels may use (>= 1).</summary>
    public static int Threads
    {
        get => _threads;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(Threads));
            _threads = value;
            ThreadsChanged?.Invoke(value);
        }
    }

    /// <summary>Raised when <see cref="Threads"/> changes, so native back-ends (OpenBLAS) can follow.</summary>
    public static event Action<int>? ThreadsChanged;

    /// <summary>Options for <see cref="Parallel"/> loops that respect <see cref="Threads"/>.</summary>
    public static ParallelOptions ParallelOptions => new() { MaxDegreeOfParallelism = _threads };

    private static int ReadThreadsFromEnvironment()
    {
        string? s = Environment.GetEnvironmentVariable("CEDM_THREADS");
        return int.TryParse(s, out int n) && n >= 1 ? n : Environment.ProcessorCount;
    }
}
