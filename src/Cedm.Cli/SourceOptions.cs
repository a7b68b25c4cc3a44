using System.CommandLine;
using Cedm.Data;

namespace Cedm.Cli;

/// <summary>Options of every command that reads a <c>&lt;source&gt;</c> (cli.md "Data sources").</summary>
public static class SourceOptions
{
    public static Argument<string> Source() => new("source")
    {
        Description = $"Images to read: {DataSource.Syntax}.",
    };

    public static Option<int?> Resolution() => new("--resolution")
    {
        Description = "Resize (shorter side, area/bilinear) and centre-crop to this many pixels square. Default: keep the stored size.",
    };

    public static Option<int> Pad() => new("--pad")
    {
        Description = "Pixels of black padding added on every side after resizing, e.g. 2 for 28x28 -> 32x32.",
        DefaultValueFactory = _ => 0,
    };

    public static TransformOptions Transform(ParseResult parse, Option<int?> resolution, Option<int> pad)
    {
        var options = new TransformOptions { Resolution = parse.GetValue(resolution), Pad = parse.GetValue(pad) };
        options.Validate();
        return options;
    }
}
