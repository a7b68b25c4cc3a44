using System.Runtime.InteropServices;

namespace Cedm.Tensors.Native;

/// <summary>
/// The engine's only native binding: OpenBLAS, loaded at run time with <see cref="NativeLibrary"/> so the
/// engine still works (on the managed GEMM) where OpenBLAS is not installed.
/// Exports are resolved once into unmanaged function pointers; no marshalling happens per call.
/// OpenBLAS's thread count follows <see cref="ComputeSettings.Threads"/>.
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
    private static readonly delegate* unmanaged<int, void> s_setNumThreads;

    /// <summary>True when OpenBLAS was found and <c>cblas_sgemm</c> resolved.</summary>
    public static bool IsAvailable { get; }

    /// <summary>The name/path that loaded, or null.</summary>
    public static string? LibraryName { get; }

    /// <summary>Why loading failed (for diagnostics such as <c>cedm selfcheck</c>), or null.</summary>
    public static string? LoadError { get; }

    static OpenBlas()
    {
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
            if (NativeLibrary.TryGetExport(handle, "openblas_set_num_threads", out IntPtr setThreads))
                s_setNumThreads = (delegate* unmanaged<int, void>)setThreads;
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
        SetThreads(ComputeSettings.Threads);
        ComputeSettings.ThreadsChanged += SetThreads;
    }

    private static void SetThreads(int threads)
    {
        if (s_setNumThreads != null)
            s_setNumThreads(threads);
    }

    /// <summary>
    /// Raw row-major <c>cblas_sgemm</c>. No argument checking: callers go through
    /// <see cref="Kernels.Gemm.Sgemm"/>, which validates shapes and span lengths first.
    /// </summary>
    internal static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        if (!IsAvailable)
            throw new InvalidOperationException(LoadError);
        s_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
}
