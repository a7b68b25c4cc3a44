using Cedm.Distributed;

namespace Cedm.Cli;

/// <summary>
/// cedm started by mpirun with several ranks (docs/distributed.md): only the verbs that shard their work run
/// (<see cref="Verbs"/>); rank 0 prints, the other ranks print nothing but their error; any rank that fails, by an
/// error exit or an unhandled exception on any thread, calls MPI_Abort so every rank ends at once instead of waiting
/// in a collective for it. A clean exit calls MPI_Finalize.
/// </summary>
public static class DistributedRun
{
    /// <summary>The verbs that split their work over ranks; the others would run R copies writing the same files.</summary>
    public static readonly string[] Verbs = ["train", "sample", "features", "eval", "bound"];

    public static int Execute(ICommunicator world, string[] args)
    {
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            Console.Error.WriteLine($"cedm rank {world.Rank}/{world.Size}: unhandled exception, aborting the job: {e.ExceptionObject}");
            Console.Error.Flush();
            world.Abort(1);
        };
        string? verb = args.FirstOrDefault(a => !a.StartsWith('-'));
        if (verb is null || !Verbs.Contains(verb))
        {
            if (world.Rank == 0)
                Console.Error.WriteLine($"error: `cedm {verb ?? ""}` does not run distributed; under mpirun ({world.Size} ranks) only {string.Join(", ", Verbs.Select(v => "cedm " + v))} do (docs/distributed.md)");
            Communicator.Shutdown();
            return 2;
        }
        bool root = world.Rank == 0;
        var errors = new StringWriter();
        int code = Program.Run(args, root ? Console.Out : TextWriter.Null, root ? Console.Error : errors);
        if (code != 0)
        {
            if (!root) Console.Error.Write(string.Concat(errors.ToString().Split('\n').Where(l => l.Length > 0).Select(l => $"rank {world.Rank}: {l}\n")));
            Console.Error.WriteLine($"cedm: rank {world.Rank} of {world.Size} failed (exit {code}); aborting every rank");
            Console.Error.Flush();
            world.Abort(code);
        }
        Communicator.Shutdown();
        return 0;
    }
}
