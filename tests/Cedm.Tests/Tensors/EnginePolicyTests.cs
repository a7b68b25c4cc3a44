using Cedm.Tensors;
using Cedm.Tensors.Kernels;
using FluentAssertions;

namespace Cedm.Tests.Tensors;

public class EnginePolicyTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] vars) =>
        name => vars.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void Environment_values_are_read_into_the_policy()
    {
        var (policy, warnings) = EnginePolicy.FromEnvironment(Env(("CEDM_THREADS", "3"), ("CEDM_GEMM", "Reference"), ("CEDM_ARENA", "off")));
        warnings.Should().BeEmpty();
        policy.Threads.Should().Be(3);
        policy.GemmBackend.Should().Be(GemmBackend.Reference);
        policy.Arena.Should().BeFalse();
    }

    [Fact]
    public void Unset_environment_gives_the_defaults()
    {
        var (policy, warnings) = EnginePolicy.FromEnvironment(_ => null);
        warnings.Should().BeEmpty();
        policy.Should().Be(EnginePolicy.Default);
        policy.Threads.Should().Be(Environment.ProcessorCount);
    }

    [Theory]
    [InlineData("CEDM_THREADS", "0")]
    [InlineData("CEDM_THREADS", "two")]
    [InlineData("CEDM_GEMM", "blas")]
    [InlineData("CEDM_GEMM", "2")]
    [InlineData("CEDM_ARENA", "maybe")]
    public void Unusable_values_keep_the_default_and_come_back_as_warnings(string name, string value)
    {
        var (policy, warnings) = EnginePolicy.FromEnvironment(Env((name, value)));
        policy.Should().Be(EnginePolicy.Default);
        warnings.Should().ContainSingle().Which.Should().Contain(name).And.Contain(value);
    }

    [Fact]
    public void Overrides_nest_and_restore()
    {
        var before = EnginePolicy.Current;
        using (EnginePolicy.Override(p => p with { Avx512Winograd = false }))
        {
            EnginePolicy.Current.Avx512Winograd.Should().BeFalse();
            using (EnginePolicy.Override(p => p with { HwcTargetTiles = 7 }))
            {
                EnginePolicy.Current.Avx512Winograd.Should().BeFalse("an inner scope starts from the outer one");
                EnginePolicy.Current.HwcTargetTiles.Should().Be(7);
            }
            EnginePolicy.Current.HwcTargetTiles.Should().Be(before.HwcTargetTiles);
        }
        EnginePolicy.Current.Should().Be(before);
    }

    [Fact]
    public void An_override_reaches_the_work_it_starts_but_not_other_threads()
    {
        using var gate = new ManualResetEventSlim();
        using var done = new ManualResetEventSlim();
        int seenElsewhere = 0;
        // Started before the override, so it does not inherit it: it stands for a test running concurrently.
        var other = new Thread(() => { gate.Wait(); seenElsewhere = EnginePolicy.Current.WinogradTargetTiles; done.Set(); });
        other.Start();
        using (EnginePolicy.Override(p => p with { WinogradTargetTiles = 3 }))
        {
            var seenByWorkers = new int[64];
            Parallel.For(0, seenByWorkers.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 },
                i => seenByWorkers[i] = EnginePolicy.Current.WinogradTargetTiles);
            seenByWorkers.Should().OnlyContain(t => t == 3);
            gate.Set();
            done.Wait();
        }
        other.Join();
        seenElsewhere.Should().Be(EnginePolicy.Installed.WinogradTargetTiles);
    }

    [Fact]
    public void Invalid_overrides_are_rejected_before_they_apply()
    {
        var before = EnginePolicy.Current;
        var act = () => EnginePolicy.Override(p => p with { Threads = 0 });
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("Threads");
        EnginePolicy.Current.Should().Be(before);
    }

    [Fact]
    public void Describe_names_every_setting()
    {
        var lines = (EnginePolicy.Default with { Threads = 5, Arena = false }).Describe().ToDictionary(l => l.Key, l => l.Value);
        lines["threads"].Should().StartWith("5 ");
        lines["arena"].Should().StartWith("off");
        lines.Keys.Should().Contain(["gemm", "avx512 winograd", "conv tuning"]);
    }
}
