using System.CommandLine;
using System.Text.Json;
using Cedm.Tensors;

namespace Cedm.Cli.Commands;

/// <summary>`cedm selfcheck`: what the engine runs on (threads, GEMM back-end, SIMD) and quick numerical checks.</summary>
public static class SelfCheckCommand
{
    public static Command Build()
    {
        var json = GlobalOptions.Json();
        var seed = GlobalOptions.Seed();
        var cmd = new Command("selfcheck", "Report the compute back-ends and run quick numerical checks of the engine (exit 1 if one fails).")
        {
            json, seed,
        };
        cmd.SetAction(parse =>
        {
            var w = parse.InvocationConfiguration.Output;
            var info = EngineSelfCheck.Describe();
            var checks = EngineSelfCheck.Run((ulong)parse.GetValue(seed));
            bool ok = checks.All(c => c.Passed);
            if (parse.GetValue(json))
            {
                w.WriteLine(JsonSerializer.Serialize(new
                {
                    engine = info.ToDictionary(kv => kv.Key, kv => kv.Value),
                    checks = checks.Select(c => new { name = c.Name, passed = c.Passed, detail = c.Detail }),
                    passed = ok,
                }));
            }
            else
            {
                int width = info.Max(kv => kv.Key.Length);
                foreach (var (key, value) in info) w.WriteLine($"{key.PadRight(width)}  {value}");
                w.WriteLine();
                foreach (var c in checks) w.WriteLine($"[{(c.Passed ? " ok " : "FAIL")}] {c.Name}: {c.Detail}");
            }
            return ok ? 0 : 1;
        });
        return cmd;
    }
}
