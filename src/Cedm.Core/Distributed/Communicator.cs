namespace Cedm.Distributed;

/// <summary>
/// The job this process belongs to. <see cref="World"/> is Open MPI's MPI_COMM_WORLD when the process was started by
/// an MPI launcher (mpirun/mpiexec set <c>OMPI_COMM_WORLD_SIZE</c>; a PMIx direct launch such as
/// <c>srun --mpi=pmix</c> sets <c>PMIX_RANK</c>) and libmpi loads; otherwise <see cref="SingleProcess"/>, with no MPI
/// library touched. A launched process whose MPI library does not load fails rather than running R unaware copies
/// that would all write the same files.
/// </summary>
public static class Communicator
{
    private static readonly Lock Gate = new();
    private static ICommunicator? _world;

    /// <summary>Whether the environment says an MPI launcher started this process.</summary>
    public static bool LaunchedByMpi(Func<string, string?>? getVariable = null)
    {
        getVariable ??= Environment.GetEnvironmentVariable;
        return getVariable("OMPI_COMM_WORLD_SIZE") is { Length: > 0 } || getVariable("PMIX_RANK") is { Length: > 0 };
    }

    /// <summary>The job's communicator, opened on first use (MPI_Init) and kept until <see cref="Shutdown"/>.</summary>
    public static ICommunicator World
    {
        get
        {
            lock (Gate)
            {
                if (_world != null) return _world;
                if (!LaunchedByMpi()) return _world = SingleProcess.Instance;
                try { return _world = OpenMpiCommunicator.Open(); }
                catch (DllNotFoundException e)
                {
                    throw new InvalidOperationException(
                        $"this process was started by an MPI launcher but Open MPI could not be used ({e.Message}); install libopenmpi3 (Debian) or set CEDM_MPI_LIBRARY", e);
                }
            }
        }
    }

    /// <summary>Whether <see cref="World"/> has been opened with more than one rank (without opening it).</summary>
    public static bool IsDistributed
    {
        get { lock (Gate) return _world is { Size: > 1 }; }
    }

    /// <summary>MPI_Finalize on a clean exit (no-op when single-process or never opened).</summary>
    public static void Shutdown()
    {
        lock (Gate)
        {
            _world?.Dispose();   // the communicator stays: after MPI_Finalize no MPI call may follow
        }
    }

    /// <summary>Ends every rank after a failure on this one (MPI_Abort), or nothing when single-process.</summary>
    public static void AbortIfDistributed(int code)
    {
        ICommunicator? world;
        lock (Gate) world = _world;
        if (world is { Size: > 1 }) world.Abort(code);
    }
}
