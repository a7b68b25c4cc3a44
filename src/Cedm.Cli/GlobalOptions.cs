using System.CommandLine;

namespace Cedm.Cli;

/// <summary>Options shared by every command (cli.md "Conventions").</summary>
public static class GlobalOptions
{
    public static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "Print stack traces on errors.",
        Recursive = true,
    };

    public static Option<bool> Json() => new("--json") { Description = "Write machine-readable JSON to stdout." };

    public static Option<int> Seed() => new("--seed") { Description = "Seed for every random choice.", DefaultValueFactory = _ => 0 };

    public static Option<bool> Force() => new("--force") { Description = "Overwrite existing outputs." };
}
