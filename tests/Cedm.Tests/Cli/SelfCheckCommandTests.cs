using System.Text.Json;
using Cedm.Tensors;
using FluentAssertions;

namespace Cedm.Tests.Cli;

public sealed class SelfCheckCommandTests
{
    [Fact]
    public void EveryEngineCheckPassesAndJsonReportsTheBackends()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Cedm.Cli.Program.Run(["selfcheck", "--json"], stdout, stderr);
        code.Should().Be(0, stdout.ToString() + stderr);
        using var json = JsonDocument.Parse(stdout.ToString());
        json.RootElement.GetProperty("passed").GetBoolean().Should().BeTrue();
        json.RootElement.GetProperty("engine").GetProperty("gemm").GetString().Should().NotBeNullOrEmpty();
        json.RootElement.GetProperty("checks").GetArrayLength().Should().Be(3);
    }

    [Fact]
    public void ChecksPassWithAnotherSeedAndReportTheNumbersTheyJudged()
    {
        var checks = EngineSelfCheck.Run(seed: 7);
        checks.Should().OnlyContain(c => c.Passed);
        checks.Single(c => c.Name == "tiny classifier learns").Detail.Should().MatchRegex(@"loss \d\.\d+ -> \d\.\d+, accuracy");
    }

    [Fact]
    public void UnknownCommandOrOptionIsAUsageErrorWithExitCode2()
    {
        var stderr = new StringWriter();
        Cedm.Cli.Program.Run(["no-such-command"], new StringWriter(), stderr).Should().Be(2);
        stderr.ToString().Should().StartWith("error: ");
        stderr = new StringWriter();
        Cedm.Cli.Program.Run(["selfcheck", "--no-such-option"], new StringWriter(), stderr).Should().Be(2);
        stderr.ToString().Should().Contain("--no-such-option").And.Contain("cedm selfcheck --help");
    }
}
