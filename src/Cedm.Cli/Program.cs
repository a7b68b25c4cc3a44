using System.CommandLine;
using Cedm.Cli.Commands;

namespace Cedm.Cli;

/// <summary>The verb table of the cedm command (see ../shared/spec/cli.md). Each verb lives in Commands/.</summary>
public static class Program
{
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the CLI with explicit writers so tests can call it in-process.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = BuildRoot();
        var config = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false };
        bool verbose = args.Contains("--verbose");
        try
        {
            return root.Parse(args).Invoke(config);
        }
        catch (Exception ex)
        {
            return CliErrors.Report(ex, stderr, verbose);
        }
    }

    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("cedm: label-free conditional image generation (features -> clusters -> cluster-conditioned EDM -> samples -> metrics).");
        root.Options.Add(GlobalOptions.Verbose);
        root.Subcommands.Add(SelfCheckCommand.Build());
        root.Subcommands.Add(DataCommand.Build());
        return root;
    }
}
