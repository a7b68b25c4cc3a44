using Cedm.IO;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Cli;

/// <summary>
/// NaN, infinities and finite values that overflow float maths are bad input, not internal errors: every command
/// that reads features answers exit 2 with one line naming the file, the row and the column (issue 18 item 7).
/// </summary>
public sealed class BadValueInputTests : CliTest
{
    private string Features(string name, double bad, int badRow = 3, int badColumn = 1)
    {
        var rng = new Random(5);
        var x = new double[20 * 4];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextDouble();
        x[badRow * 4 + badColumn] = bad;
        string path = Path.Combine(Dir, name);
        Npy.Write(path, x, 20, 4);
        return path;
    }

    public static TheoryData<double, string> BadValues => new()
    {
        { double.NaN, "non-finite value NaN" },
        { double.PositiveInfinity, "non-finite value Infinity" },
        { -1e30, "beyond" },
        { 1e300, "beyond" },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void EveryFeatureReaderRejectsTheValueNamingFileRowAndColumn(double bad, string what)
    {
        string badFile = Features("bad.npy", bad), good = Features("good.npy", 0.5);
        var commands = new List<string[]>
        {
            new[] { "fd", good, badFile },
            new[] { "bound", badFile, "--out", Path.Combine(Dir, "b.json"), "--force" },
        };
        foreach (var method in new[] { "kmeans", "gmm", "agglo", "temi" })
            commands.Add(["cluster", badFile, "--method", method, "--k", "2", "--out", Path.Combine(Dir, method), "--force"]);
        foreach (var args in commands)
        {
            var (code, _, err) = Run(args);
            code.Should().Be(2, $"cedm {string.Join(' ', args)}: {err}");
            err.Should().StartWith("error: ").And.Contain(badFile).And.Contain("row 3, column 1").And.Contain(what);
            err.Trim().Split('\n').Should().HaveCount(1, "one error line, no stack trace");
        }
    }
}
