namespace Cedm.Tests.TestUtilities;

/// <summary>Base of the CLI tests: a temporary folder per test class instance, and the cedm CLI run in-process.</summary>
public abstract class CliTest : IDisposable
{
    protected CliTest() => Dir = Directory.CreateTempSubdirectory($"cedm-{GetType().Name}-").FullName;

    /// <summary>A fresh folder, deleted after the test.</summary>
    protected string Dir { get; }

    public void Dispose()
    {
        Directory.Delete(Dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Runs `cedm args...` in-process; returns the exit code and what it wrote to stdout and stderr.</summary>
    protected static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Cedm.Cli.Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
