namespace Cedm.Benchmarks.Harness;

/// <summary>
/// One benchmark suite = one file under Suites/ plus (optionally) a PyTorch peer script bench/peers/&lt;PeerScript&gt;.
/// Register new suites in <see cref="SuiteRegistry"/>.
/// </summary>
public interface IBenchSuite
{
    /// <summary>Name used on the command line and in result file names (e.g. "gemm").</summary>
    string Name { get; }

    /// <summary>One line for the suite list.</summary>
    string Description { get; }

    /// <summary>Our timed cases, in table order.</summary>
    IReadOnlyList<BenchCase> Cases { get; }

    /// <summary>File name of the peer under bench/peers (e.g. "gemm.py"), or null when there is no peer.</summary>
    string? PeerScript { get; }
}

/// <summary>
/// A timed case. <see cref="Setup"/> allocates inputs and returns the action to time, so big buffers only
/// exist while their case runs. <see cref="PeerCase"/> names the peer's JSON "case" to compare against
/// (several of our cases, e.g. different back-ends, may share one peer case).
/// </summary>
/// <param name="Flops">Floating-point operations per call, for GFLOP/s; null when not meaningful.</param>
/// <param name="Items">Items (e.g. images) processed per call, for a throughput column (items/s); null to omit.</param>
public sealed record BenchCase(string Name, string? PeerCase, double? Flops, Func<Action> Setup, double? Items = null)
{
    /// <summary>
    /// Optional fit quality of the last timed call (e.g. inertia, NMI), shown next to the peer's "quality" line for the
    /// same peer case, so speed is compared at a stated quality (clustering suite).
    /// </summary>
    public Func<IReadOnlyDictionary<string, double>>? Quality { get; init; }
}
