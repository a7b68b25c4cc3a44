using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Text;

namespace Cedm.Tensors.Native;

/// <summary>
/// The engine's only native binding: OpenBLAS, loaded at run time with <see cref="NativeLibrary"/> so the
/// engine still works (on the managed GEMM) where OpenBLAS is not installed.
/// Exports are resolved once into unmanaged function pointers; no marshalling happens per call.
/// OpenBLAS's thread count follows the installed <see cref="EnginePolicy.Threads"/> (<see cref="EnginePolicy.Install"/>).
/// </summary>
public static unsafe class OpenBlas
{
    // CBLAS enum values (cblas.h): they are plain C ints across the ABI.
    private const int CblasRowMajor = 101;
    private const int CblasNoTrans = 111;
    private const int CblasTrans = 112;

    /// <summary>Library names/paths tried in order. Debian's pthread build is the one we test against.</summary>
    private static readonly string[] Candidates =
    [
        "libopenblas.so.0",
        "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
        "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so",
        "libopenblas.so",
        "libopenblasp-r0.3.21.so",
        "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
        "libopenblas.dylib",
        "libopenblas.dll",
        "openblas",
    ];

    // void cblas_sgemm(order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc); blasint = int32
    // (Debian's libopenblas0 is the 32-bit-index build; the 64-bit one is a separate libopenblas64 package).
    private static readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> s_sgemm;
    private static readonly delegate* unmanaged<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void> s_dgemm;
    private static readonly delegate* unmanaged<int, void> s_setNumThreads;
    private static readonly delegate* unmanaged<byte*> s_getCoreName;

    /// <summary>True when OpenBLAS was found and <c>cblas_sgemm</c> resolved.</summary>
    public static bool IsAvailable { get; }

    /// <summary>The name/path that loaded, or null.</summary>
    public static string? LibraryName { get; }

    /// <summary>
    /// The OPENBLAS_CORETYPE we set before loading because the user had not (see <see cref="ChooseCoreType"/>),
    /// or null. Peers that load OpenBLAS too (the PyTorch benchmark peer) should get the same value.
    /// </summary>
    public static string? CoreTypeOverride { get; }

    /// <summary>The kernel family OpenBLAS runs (openblas_get_corename, e.g. "SkylakeX"), or null.</summary>
    public static string? CoreName => s_getCoreName == null ? null : Marshal.PtrToStringUTF8((IntPtr)s_getCoreName());

    /// <summary>Why loading failed (for diagnostics such as <c>cedm selfcheck</c>), or null.</summary>
    public static string? LoadError { get; }

    static OpenBlas()
    {
        CoreTypeOverride = ApplyCoreTypeOverride();
        foreach (string name in Candidates)
        {
            if (!NativeLibrary.TryLoad(name, out IntPtr handle))
                continue;
            if (!NativeLibrary.TryGetExport(handle, "cblas_sgemm", out IntPtr sgemm))
            {
                // A BLAS without the CBLAS layer is useless to us; keep looking.
                NativeLibrary.Free(handle);
                continue;
            }
            s_sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemm;
            // Double precision is optional (float64 feature statistics, spec §6.1); GemmDouble falls back to managed code.
            if (NativeLibrary.TryGetExport(handle, "cblas_dgemm", out IntPtr dgemm))
                s_dgemm = (delegate* unmanaged<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void>)dgemm;
            if (NativeLibrary.TryGetExport(handle, "openblas_set_num_threads", out IntPtr setThreads))
                s_setNumThreads = (delegate* unmanaged<int, void>)setThreads;
            if (NativeLibrary.TryGetExport(handle, "openblas_get_corename", out IntPtr coreName))
                s_getCoreName = (delegate* unmanaged<byte*>)coreName;
            LibraryName = name;
            IsAvailable = true;
            break;
        }
        if (!IsAvailable)
        {
            LoadError = "OpenBLAS not found (tried: " + string.Join(", ", Candidates) +
                        "). On Debian/Ubuntu: apt-get install libopenblas0-pthread";
            return;
        }
        SetThreads(EnginePolicy.Installed.Threads);
        EnginePolicy.ThreadsInstalled += SetThreads;
    }

    /// <summary>
    /// OpenBLAS built with DYNAMIC_ARCH picks its kernels from the CPU model at load time. Debian 12's 0.3.21
    /// does not know newer Xeons (e.g. Sapphire Rapids under a hypervisor: "Intel(R) Xeon(R) Processor") and
    /// falls back to the generic SSE3 "Prescott" kernels, about 7x slower than its AVX-512 ones. Its documented
    /// override is the OPENBLAS_CORETYPE environment variable, read when the library loads, so unless the user
    /// set it we choose from the CPU features here and put it into the native environment first.
    /// </summary>
    private static string? ApplyCoreTypeOverride()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE") is not null)
            return null;
        string? core = ChooseCoreType();
        if (core is null || !NativeLibrary.TryLoad("libc.so.6", out IntPtr libc))
            return null;
        if (!NativeLibrary.TryGetExport(libc, "setenv", out IntPtr setenvPtr))
            return null;
        // .NET's Environment.SetEnvironmentVariable only changes the managed copy; OpenBLAS calls getenv(),
        // so it has to be libc's setenv. overwrite = 0: never clobber a value set natively by a host.
        var setenv = (delegate* unmanaged<byte*, byte*, int, int>)setenvPtr;
        byte[] name = Encoding.ASCII.GetBytes("OPENBLAS_CORETYPE\0"), value = Encoding.ASCII.GetBytes(core + "\0");
        fixed (byte* n = name)
        fixed (byte* v = value)
            return setenv(n, v, 0) == 0 ? core : null;
    }

    /// <summary>OpenBLAS kernel family for this CPU's features (x64 only; elsewhere OpenBLAS's own detection stands).</summary>
    private static string? ChooseCoreType()
    {
        if (Avx512F.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Avx512F.VL.IsSupported)
            return "SkylakeX";
        if (Avx2.IsSupported && Fma.IsSupported)
            return "Haswell";
        return null;
    }

    private static void SetThreads(int threads)
    {
        if (s_setNumThreads != null)
            s_setNumThreads(threads);
    }

    /// <summary>
    /// Raw row-major <c>cblas_sgemm</c>. No argument checking: callers go through
    /// <see cref="Kernels.Gemm.Sgemm(bool, bool, int, int, int, float, ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, float, Span{float}, int)"/>, which validates shapes and span lengths first.
    /// </summary>
    internal static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        if (!IsAvailable)
            throw new InvalidOperationException(LoadError);
        s_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>True when <c>cblas_dgemm</c> resolved too.</summary>
    public static bool HasDgemm => IsAvailable && s_dgemm != null;

    /// <summary>Raw row-major <c>cblas_dgemm</c>; callers go through <see cref="Kernels.GemmDouble"/>, which validates.</summary>
    internal static void Dgemm(bool transA, bool transB, int m, int n, int k, double alpha,
        double* a, int lda, double* b, int ldb, double beta, double* c, int ldc)
    {
        if (!HasDgemm)
            throw new InvalidOperationException(LoadError ?? "cblas_dgemm not exported by the loaded OpenBLAS");
        s_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
}
