using System.Runtime.InteropServices;
using System.Text;

namespace Cedm.Distributed;

/// <summary>
/// MPI_COMM_WORLD of Open MPI, bound at run time: libmpi.so.40 (Open MPI 4.x; <c>CEDM_MPI_LIBRARY</c> names another
/// file) is loaded with RTLD_GLOBAL, as Open MPI's plugins expect, and the dozen C functions used are called through
/// unmanaged function pointers, so cedm has no build-time MPI dependency. Open MPI's handles are the addresses of
/// exported globals (MPI_COMM_WORLD = &amp;ompi_mpi_comm_world, MPI_FLOAT = &amp;ompi_mpi_float, MPI_SUM =
/// &amp;ompi_mpi_op_sum) and MPI_IN_PLACE is (void*)1; MPICH's integer handles are not supported. MPI counts are
/// <c>int</c>, so long buffers go in chunks of <see cref="ChunkElements"/>. MPI is initialised with
/// MPI_THREAD_SERIALIZED: collectives come from one thread at a time, not necessarily the one that initialised.
/// </summary>
public sealed unsafe class OpenMpiCommunicator : ICommunicator
{
    public const string DefaultLibrary = "libmpi.so.40";
    private const int MpiThreadSerialized = 2;
    private static readonly void* InPlace = (void*)1;

    private readonly nint _lib;
    private readonly nint _world, _float, _double, _byte, _int, _sum;
    private readonly delegate* unmanaged<void*, void*, int, nint, nint, nint, int> _allreduce;
    private readonly delegate* unmanaged<void*, int, nint, int, nint, int> _bcast;
    private readonly delegate* unmanaged<void*, int, nint, void*, int, nint, int, nint, int> _gather;
    private readonly delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, int, nint, int> _gatherv;
    private readonly delegate* unmanaged<nint, int> _barrier;
    private readonly delegate* unmanaged<nint, int, int> _abort;
    private readonly delegate* unmanaged<int> _finalize;
    private bool _disposed;

    /// <summary>Largest element count of one MPI call (an <c>int</c>); tests lower it to exercise the chunking.</summary>
    internal int ChunkElements { get; set; } = 1 << 28;

    public int Size { get; }

    public int Rank { get; }

    public string Library { get; }

    public string Description => $"Open MPI ({Library}), {Size} ranks";

    private OpenMpiCommunicator(nint lib, string library)
    {
        _lib = lib; Library = library;
        _world = Export("ompi_mpi_comm_world"); _float = Export("ompi_mpi_float"); _double = Export("ompi_mpi_double");
        _byte = Export("ompi_mpi_byte"); _int = Export("ompi_mpi_int"); _sum = Export("ompi_mpi_op_sum");
        var initialized = (delegate* unmanaged<int*, int>)Export("MPI_Initialized");
        var initThread = (delegate* unmanaged<int*, byte***, int, int*, int>)Export("MPI_Init_thread");
        var commSize = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_size");
        var commRank = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_rank");
        _allreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)Export("MPI_Allreduce");
        _bcast = (delegate* unmanaged<void*, int, nint, int, nint, int>)Export("MPI_Bcast");
        _gather = (delegate* unmanaged<void*, int, nint, void*, int, nint, int, nint, int>)Export("MPI_Gather");
        _gatherv = (delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, int, nint, int>)Export("MPI_Gatherv");
        _barrier = (delegate* unmanaged<nint, int>)Export("MPI_Barrier");
        _abort = (delegate* unmanaged<nint, int, int>)Export("MPI_Abort");
        _finalize = (delegate* unmanaged<int>)Export("MPI_Finalize");
        int flag = 0, provided = 0, size = 0, rank = 0;
        Check(initialized(&flag), "MPI_Initialized");
        if (flag == 0) Check(initThread(null, null, MpiThreadSerialized, &provided), "MPI_Init_thread");
        Check(commSize(_world, &size), "MPI_Comm_size");
        Check(commRank(_world, &rank), "MPI_Comm_rank");
        Size = size; Rank = rank;
    }

    /// <summary>
    /// Loads Open MPI from <paramref name="library"/> (default <c>CEDM_MPI_LIBRARY</c> or libmpi.so.40) and initialises
    /// MPI. Throws <see cref="DllNotFoundException"/> when the library or one of its symbols is missing.
    /// </summary>
    public static OpenMpiCommunicator Open(string? library = null)
    {
        library ??= Environment.GetEnvironmentVariable("CEDM_MPI_LIBRARY") is { Length: > 0 } env ? env : DefaultLibrary;
        return new OpenMpiCommunicator(LoadGlobal(library), library);
    }

    /// <summary>dlopen(RTLD_NOW | RTLD_GLOBAL): Open MPI's components resolve libmpi's symbols from the global scope.</summary>
    private static nint LoadGlobal(string library)
    {
        if (!OperatingSystem.IsLinux()) throw new DllNotFoundException("the Open MPI binding is for Linux");
        nint libc = NativeLibrary.Load("libc.so.6");
        var dlopen = (delegate* unmanaged<byte*, int, nint>)NativeLibrary.GetExport(libc, "dlopen");
        var dlerror = (delegate* unmanaged<byte*>)NativeLibrary.GetExport(libc, "dlerror");
        byte[] name = Encoding.UTF8.GetBytes(library + "\0");
        nint handle;
        fixed (byte* p = name) handle = dlopen(p, 0x002 | 0x100);
        if (handle == 0)
        {
            byte* e = dlerror();
            throw new DllNotFoundException($"cannot load {library}: {(e == null ? "unknown error" : Marshal.PtrToStringUTF8((nint)e))}");
        }
        return handle;
    }

    private nint Export(string name) => NativeLibrary.TryGetExport(_lib, name, out nint address)
        ? address : throw new DllNotFoundException($"{Library} has no symbol {name} (is it Open MPI 4.x?)");

    private static void Check(int code, string call)
    {
        if (code != 0) throw new InvalidOperationException($"{call} failed with MPI error {code}");
    }

    public void AllReduceSum(Span<float> data)
    {
        fixed (float* p = data)
            for (int at = 0; at < data.Length; at += ChunkElements)
                Check(_allreduce(InPlace, p + at, Math.Min(ChunkElements, data.Length - at), _float, _sum, _world), "MPI_Allreduce");
    }

    public void AllReduceSum(Span<double> data)
    {
        fixed (double* p = data)
            for (int at = 0; at < data.Length; at += ChunkElements)
                Check(_allreduce(InPlace, p + at, Math.Min(ChunkElements, data.Length - at), _double, _sum, _world), "MPI_Allreduce");
    }

    public void Broadcast(Span<byte> data, int root = 0)
    {
        CheckRoot(root);
        fixed (byte* p = data)
            for (int at = 0; at < data.Length; at += ChunkElements)
                Check(_bcast(p + at, Math.Min(ChunkElements, data.Length - at), _byte, root, _world), "MPI_Bcast");
    }

    public void Broadcast(Span<float> data, int root = 0)
    {
        CheckRoot(root);
        fixed (float* p = data)
            for (int at = 0; at < data.Length; at += ChunkElements)
                Check(_bcast(p + at, Math.Min(ChunkElements, data.Length - at), _float, root, _world), "MPI_Bcast");
    }

    public byte[] Gather(ReadOnlySpan<byte> mine, int root = 0)
    {
        CheckRoot(root);
        int count = mine.Length;
        var counts = new int[Size];
        fixed (int* c = counts) Check(_gather(&count, 1, _int, c, 1, _int, root, _world), "MPI_Gather");
        if (Rank != root)
        {
            fixed (byte* s = mine) Check(_gatherv(s, count, _byte, null, null, null, _byte, root, _world), "MPI_Gatherv");
            return [];
        }
        long total = counts.Sum(c => (long)c);
        if (total > int.MaxValue) throw new InvalidOperationException($"gathering {total} bytes on one rank exceeds MPI's int displacements");
        var displs = new int[Size];
        for (int r = 1; r < Size; r++) displs[r] = displs[r - 1] + counts[r - 1];
        var all = new byte[total];
        fixed (byte* s = mine)
        fixed (byte* a = all)
        fixed (int* c = counts)
        fixed (int* d = displs)
            Check(_gatherv(s, count, _byte, a, c, d, _byte, root, _world), "MPI_Gatherv");
        return all;
    }

    public void Barrier() => Check(_barrier(_world), "MPI_Barrier");

    public void Abort(int code)
    {
        _abort(_world, code);
        Environment.Exit(code);
    }

    /// <summary>MPI_Finalize (every rank must reach it; after it no MPI call is allowed).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _finalize();
    }

    private void CheckRoot(int root)
    {
        if (root < 0 || root >= Size) throw new ArgumentOutOfRangeException(nameof(root), root, $"ranks are 0..{Size - 1}");
    }
}
