using Cedm.Distributed;

namespace Cedm.Tests.Distributed;

/// <summary>
/// A fact that needs Open MPI on this machine (mpirun on the PATH and libmpi.so.40 loadable); reported as skipped with
/// the install command otherwise (`tools/install-deps.sh` installs openmpi-bin and libopenmpi-dev).
/// </summary>
public sealed class OpenMpiFactAttribute : FactAttribute
{
    public OpenMpiFactAttribute()
    {
        if (MpiJob.Unavailable() is { } why) Skip = $"Open MPI not available ({why}); install it with `bash tools/install-deps.sh` (openmpi-bin, libopenmpi-dev)";
    }
}

/// <summary>Runs the built cedm CLI as a child process, alone or under mpirun.</summary>
public static class MpiJob
{
    private static readonly Lazy<string?> Why = new(() =>
    {
        string? mpirun = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists);
        if (mpirun is null) return "no mpirun on the PATH";
        if (!System.Runtime.InteropServices.NativeLibrary.TryLoad(OpenMpiCommunicator.DefaultLibrary, out _)) return $"{OpenMpiCommunicator.DefaultLibrary} does not load";
        return File.Exists(CliDll) ? null : $"{CliDll} not built";
    });

    public static string? Unavailable() => Why.Value;

    /// <summary>cedm.dll beside the test assembly (the test project references the CLI).</summary>
    public static string CliDll => Path.Combine(AppContext.BaseDirectory, "cedm.dll");

    /// <summary>Starts `cedm args` on <paramref name="ranks"/> ranks (0: without mpirun), one kernel thread each.</summary>
    public static System.Diagnostics.Process Start(int ranks, IEnumerable<string> args, string workDir)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(ranks == 0 ? "dotnet" : "mpirun")
        {
            WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        if (ranks > 0)
            foreach (var a in new[] { "--allow-run-as-root", "--oversubscribe", "-np", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture), "-x", "CEDM_THREADS", "dotnet" })
                psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(CliDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["CEDM_THREADS"] = "1";
        psi.Environment["OMPI_MCA_rmaps_base_oversubscribe"] = "1";
        return System.Diagnostics.Process.Start(psi)!;
    }

    /// <summary>Runs to the end (at most <paramref name="timeoutSeconds"/>); returns the exit code and both outputs.</summary>
    public static (int Code, string Out, string Err) Run(int ranks, IEnumerable<string> args, string workDir, int timeoutSeconds = 120)
    {
        using var p = Start(ranks, args, workDir);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"cedm {string.Join(' ', args)} on {ranks} ranks ran past {timeoutSeconds} s");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
