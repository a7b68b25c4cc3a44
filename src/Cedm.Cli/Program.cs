using System.CommandLine;
using Cedm.Cli.Commands;

namespace Cedm.Cli;

/// <summary>The verb table of the cedm command (see ../shared/spec/cli.md). Each verb lives in Commands/.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var (policy, warnings) = Cedm.Tensors.EnginePolicy.FromEnvironment();
        Cedm.Distributed.ICommunicator world;
        try { world = Cedm.Distributed.Communicator.World; }
        catch (InvalidOperationException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        if (world.Rank == 0) foreach (string warning in warnings) Console.Error.WriteLine($"cedm: {warning}");
        Cedm.Tensors.EnginePolicy.Install(policy);
        if (world.Size == 1) return Run(args, Console.Out, Console.Error);
        return DistributedRun.Execute(world, args);
    }

    /// <summary>Runs the CLI with explicit writers so tests can call it in-process.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = BuildRoot();
        var config = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false };
        bool verbose = args.Contains("--verbose");
        ParseResult? parsed = null;
        try
        {
            parsed = root.Parse(args);
            if (parsed.Errors.Count > 0 && !args.Contains("--help") && !args.Contains("-h"))
            {
                // cli.md: bad usage exits 2 with one `error:` line naming what was wrong.
                stderr.WriteLine($"error: {CliErrors.Printable(ParseErrorText(parsed.Errors[0]))} (see `{CommandPath(parsed.CommandResult)} --help`)");
                return 2;
            }
            return parsed.Invoke(config);
        }
        catch (Exception ex)
        {
            return CliErrors.Report(ex, stderr, verbose, parsed?.CommandResult.Command);
        }
    }

    /// <summary>
    /// A parse error's message led by the option it is about (System.CommandLine's "Argument 'x' not recognized. Must
    /// be one of: ..." does not say which option), with its tab-separated choices on one line.
    /// </summary>
    private static string ParseErrorText(System.CommandLine.Parsing.ParseError error)
    {
        string text = error.Message.Replace('\t', ' ').Replace("  ", " ", StringComparison.Ordinal);
        var option = error.SymbolResult switch
        {
            System.CommandLine.Parsing.OptionResult o => o.Option,
            System.CommandLine.Parsing.ArgumentResult { Parent: System.CommandLine.Parsing.OptionResult o } => o.Option,
            _ => null,
        };
        return option is null || text.Contains(option.Name, StringComparison.Ordinal) ? text : $"{option.Name}: {text}";
    }

    /// <summary>"cedm data grid" for the command a parse ended in.</summary>
    private static string CommandPath(System.CommandLine.Parsing.CommandResult result)
    {
        var names = new List<string>();
        for (var r = result; r != null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, r.Parent == null ? "cedm" : r.Command.Name);
        return string.Join(' ', names);
    }

    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("cedm: label-free conditional image generation (features -> clusters -> cluster-conditioned EDM -> samples -> metrics).");
        root.Options.Add(GlobalOptions.Verbose);
        root.Subcommands.Add(SelfCheckCommand.Build());
        root.Subcommands.Add(DataCommand.Build());
        root.Subcommands.Add(FeaturesCommand.Build());
        root.Subcommands.Add(ClusterCommand.Build());
        root.Subcommands.Add(BoundCommand.Build());
        root.Subcommands.Add(TreeVaeCommand.Build());
        root.Subcommands.Add(ScoreCommand.Build());
        root.Subcommands.Add(TrainCommand.Build());
        root.Subcommands.Add(SampleCommand.Build());
        root.Subcommands.Add(ClassifierCommand.Build());
        root.Subcommands.Add(DenoiseCommand.Build());
        root.Subcommands.Add(FdCommand.Build());
        root.Subcommands.Add(EvalCommand.Build());
        root.Subcommands.Add(EvaluatorCommand.Build());
        root.Subcommands.Add(RunCommand.Build());
        root.Subcommands.Add(StudyCommand.Build());
        RejectGroupSeparators(root);
        return root;
    }

    /// <summary>
    /// .NET's number parsing accepts thousands separators, so `--kimg 1,2` would silently mean 12 kimg and
    /// `--coherence 1,2` 12: every numeric option refuses a comma (a decimal comma is the likelier intent) with an error
    /// naming the flag.
    /// </summary>
    private static void RejectGroupSeparators(Command command)
    {
        foreach (var option in command.Options)
        {
            var type = Nullable.GetUnderlyingType(option.ValueType) ?? option.ValueType;
            if (type != typeof(double) && type != typeof(float) && type != typeof(int) && type != typeof(long)) continue;
            option.Validators.Add(result =>
            {
                foreach (var token in result.Tokens)
                    if (token.Value.Contains(',', StringComparison.Ordinal))
                        result.AddError($"{option.Name}: '{token.Value}' is not a number (write decimals with a point, and no thousands separators)");
            });
        }
        foreach (var sub in command.Subcommands) RejectGroupSeparators(sub);
    }
}
