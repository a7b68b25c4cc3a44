using System.Globalization;
using Cedm.Tensors.Kernels;
using Cedm.Tensors.Native;

namespace Cedm.Tensors;

/// <summary>
/// How the engine runs: worker threads, GEMM back-end, which convolution paths it may take, whether tensor storage is
/// recycled, and the convolution tuning sizes tests and benchmarks vary. None of it changes what is computed beyond
/// float rounding; the conv paths and tuning sizes do change the summation order.
/// <para>An entry point builds one from the environment (<see cref="FromEnvironment"/>), prints the warnings it gets
/// back, and installs it for the whole process (<see cref="Install"/>); kernels read <see cref="Current"/>. Code that
/// needs other settings for a while (tests comparing paths, benchmarks) opens a scope with <see cref="Override"/>:
/// it applies to the calling thread and to the parallel work started from it (the value flows with the
/// <see cref="ExecutionContext"/>), never to other threads. Tests run concurrently, and their bit-exact resume and
/// reproducibility checks rely on nobody else's override changing the summation order of their convolutions.</para>
/// <para>Without <see cref="Install"/> the engine runs on <see cref="Default"/>; nothing here reads the environment
/// implicitly and nothing here prints.</para>
/// </summary>
public sealed record EnginePolicy
{
    /// <summary>All cores, GEMM <see cref="GemmBackend.Auto"/>, every conv path on, arena on, tuned sizes.</summary>
    public static EnginePolicy Default { get; } = new();

    /// <summary>Worker threads kernels may use (>= 1). Environment: <c>CEDM_THREADS</c>; default all cores.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Requested GEMM back-end. Environment: <c>CEDM_GEMM</c> (<c>openblas|managed|reference|auto</c>).</summary>
    public GemmBackend GemmBackend { get; init; } = GemmBackend.Auto;

    /// <summary>
    /// Whether eligible 3×3 stride-1 convolutions may take the AVX-512 channels-innermost Winograd path
    /// (<see cref="Kernels.WinogradHwc"/>); off, they take the portable Winograd path (<see cref="Winograd3x3"/>).
    /// Tests and benchmarks switch it off to compare the two.
    /// </summary>
    public bool Avx512Winograd { get; init; } = true;

    /// <summary>
    /// Whether <see cref="TensorArena"/> scopes recycle tensor storage (off: every tensor comes from the GC, as
    /// outside a scope; slower, for checking memory behaviour). Environment: <c>CEDM_ARENA</c> (<c>on|off</c>).
    /// </summary>
    public bool Arena { get; init; } = true;

    /// <summary>How the conv drivers spread work over the threads (benchmarks compare them); Auto in normal use.</summary>
    internal ConvThreading ConvThreading { get; init; } = ConvThreading.Auto;

    /// <summary>Tiles per portable-Winograd GEMM column block (see <see cref="Winograd3x3.GroupSize"/>).</summary>
    internal int WinogradTargetTiles { get; init; } = 256;

    /// <summary>
    /// Micro-kernels of the channels-innermost Winograd path: Auto = AVX-512 where accelerated, else AVX2 + FMA. Tests
    /// force Avx2 on AVX-512 machines to check the AVX2 kernels.
    /// </summary>
    internal Kernels.ManagedKernel HwcKernel { get; init; } = Kernels.ManagedKernel.Auto;

    /// <summary>Tiles per unit of work on the AVX-512 Winograd path (see <see cref="Kernels.WinogradHwc.Plan"/>).</summary>
    internal int HwcTargetTiles { get; init; } = 96;

    /// <summary>Floats of im2col buffer per band of output rows (see <see cref="Conv2dKernels.BandBudgetFloats"/>).</summary>
    internal int Im2ColBandFloats { get; init; } = 1 << 20;

    /// <summary>Options for <see cref="Parallel"/> loops that respect <see cref="Threads"/>.</summary>
    public ParallelOptions ParallelOptions => new() { MaxDegreeOfParallelism = Threads };

    /// <summary>What <see cref="GemmBackend"/> resolves to (Auto = OpenBLAS if it loads, else Managed).</summary>
    public GemmBackend ActiveGemmBackend => GemmBackend switch
    {
        GemmBackend.Auto => OpenBlas.IsAvailable ? GemmBackend.OpenBlas : GemmBackend.Managed,
        var b => b,
    };

    private static EnginePolicy s_process = Default;
    private static readonly AsyncLocal<EnginePolicy?> s_override = new();

    // Open override scopes in the whole process: while there are none, Current skips the AsyncLocal lookup.
    private static int s_openOverrides;

    /// <summary>Raised by <see cref="Install"/> with the new thread count, so native back-ends (OpenBLAS) follow it.</summary>
    internal static event Action<int>? ThreadsInstalled;

    /// <summary>The policy in force here: the innermost <see cref="Override"/> of this flow, else the installed one.</summary>
    public static EnginePolicy Current =>
        Volatile.Read(ref s_openOverrides) == 0 ? s_process : s_override.Value ?? s_process;

    /// <summary>The process-wide policy (<see cref="Install"/>), ignoring overrides.</summary>
    public static EnginePolicy Installed => s_process;

    /// <summary>
    /// Makes <paramref name="policy"/> the process-wide policy. Entry points call it once at start-up; OpenBLAS's own
    /// thread pool follows <see cref="Threads"/> (overrides do not reach it).
    /// </summary>
    public static void Install(EnginePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        policy.Validate();
        s_process = policy;
        ThreadsInstalled?.Invoke(policy.Threads);
    }

    /// <summary>
    /// Applies <c>change(Current)</c> to this thread and the work it starts until the returned scope is disposed:
    /// <c>using (EnginePolicy.Override(p =&gt; p with { Avx512Winograd = false })) { ... }</c>. Scopes nest.
    /// </summary>
    public static IDisposable Override(Func<EnginePolicy, EnginePolicy> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var next = change(Current);
        ArgumentNullException.ThrowIfNull(next, nameof(change));
        next.Validate();
        var scope = new OverrideScope(s_override.Value);
        s_override.Value = next;
        Interlocked.Increment(ref s_openOverrides);
        return scope;
    }

    private sealed class OverrideScope(EnginePolicy? previous) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            s_override.Value = previous;
            Interlocked.Decrement(ref s_openOverrides);
        }
    }

    /// <summary>
    /// The policy the environment asks for (<c>CEDM_THREADS</c>, <c>CEDM_GEMM</c>, <c>CEDM_ARENA</c>), starting from
    /// <see cref="Default"/>. A value that cannot be used is not silently taken: it leaves the default in place and
    /// adds a warning for the caller to show (a typo must not change which code runs unnoticed).
    /// </summary>
    /// <param name="getVariable">Reads one variable; <see cref="Environment.GetEnvironmentVariable(string)"/> when null.</param>
    public static (EnginePolicy Policy, IReadOnlyList<string> Warnings) FromEnvironment(Func<string, string?>? getVariable = null)
    {
        getVariable ??= Environment.GetEnvironmentVariable;
        var warnings = new List<string>();
        var policy = Default;

        string? threads = getVariable("CEDM_THREADS");
        if (!string.IsNullOrWhiteSpace(threads))
        {
            if (int.TryParse(threads.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1)
                policy = policy with { Threads = n };
            else
                warnings.Add($"ignoring CEDM_THREADS='{threads}' (expected a whole number >= 1); using all {policy.Threads} cores.");
        }

        string? gemm = getVariable("CEDM_GEMM");
        if (!string.IsNullOrWhiteSpace(gemm))
        {
            if (Enum.TryParse(gemm.Trim(), ignoreCase: true, out GemmBackend b) && Enum.IsDefined(b) && !int.TryParse(gemm, out _))
            {
                if (b == GemmBackend.OpenBlas && !OpenBlas.IsAvailable)
                    warnings.Add($"CEDM_GEMM=openblas but {OpenBlas.LoadError}; using auto.");
                else
                    policy = policy with { GemmBackend = b };
            }
            else
                warnings.Add($"ignoring CEDM_GEMM='{gemm}' (expected openblas|managed|reference|auto); using auto.");
        }

        string? arena = getVariable("CEDM_ARENA");
        if (!string.IsNullOrWhiteSpace(arena))
        {
            switch (arena.Trim().ToLowerInvariant())
            {
                case "on" or "1" or "true": policy = policy with { Arena = true }; break;
                case "off" or "0" or "false": policy = policy with { Arena = false }; break;
                default: warnings.Add($"ignoring CEDM_ARENA='{arena}' (expected on|off); using on."); break;
            }
        }
        return (policy, warnings);
    }

    /// <summary>One line per setting, for <c>cedm selfcheck</c> and benchmark headers.</summary>
    public IReadOnlyList<(string Key, string Value)> Describe() =>
    [
        ("threads", $"{Threads} (CEDM_THREADS)"),
        ("gemm", $"{ActiveGemmBackend} (requested {GemmBackend}; CEDM_GEMM)"),
        ("avx512 winograd", Avx512Winograd ? $"on ({Kernels.WinogradHwc.ResolveIsa(HwcKernel)} kernels)" : "off"),
        ("arena", $"{(Arena ? "on" : "off")} (CEDM_ARENA)"),
        ("conv tuning", string.Create(CultureInfo.InvariantCulture,
            $"threading {ConvThreading}, winograd target tiles {WinogradTargetTiles}, " +
            $"avx512 target tiles {HwcTargetTiles}, im2col band {Im2ColBandFloats} floats")),
    ];

    private void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Threads, 1, nameof(Threads));
        if (!Enum.IsDefined(GemmBackend))
            throw new ArgumentOutOfRangeException(nameof(GemmBackend), GemmBackend, "Unknown GEMM back-end.");
        if (GemmBackend == GemmBackend.OpenBlas && !OpenBlas.IsAvailable)
            throw new ArgumentException($"GEMM back-end OpenBlas requested but unavailable: {OpenBlas.LoadError}", nameof(GemmBackend));
        if (!Enum.IsDefined(ConvThreading))
            throw new ArgumentOutOfRangeException(nameof(ConvThreading), ConvThreading, "Unknown conv threading mode.");
        ArgumentOutOfRangeException.ThrowIfLessThan(WinogradTargetTiles, 1, nameof(WinogradTargetTiles));
        ArgumentOutOfRangeException.ThrowIfLessThan(HwcTargetTiles, 1, nameof(HwcTargetTiles));
        ArgumentOutOfRangeException.ThrowIfLessThan(Im2ColBandFloats, 1, nameof(Im2ColBandFloats));
    }
}
