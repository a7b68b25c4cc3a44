using Cedm.Benchmarks.Harness;
using Cedm.Tensors;
using Cedm.Tensors.Kernels;
using Cedm.Tensors.Native;

// cedm benchmark harness: times our kernels and, in the same invocation, the PyTorch peer of each suite.
var (policy, policyWarnings) = EnginePolicy.FromEnvironment();
foreach (string warning in policyWarnings)
    Console.Error.WriteLine($"cedm bench: {warning}");
EnginePolicy.Install(policy);
BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

var suites = SuiteRegistry.All.Select(f => f()).ToList();
if (options.List)
{
    foreach (var s in suites)
        Console.WriteLine($"{s.Name,-12} {s.Description}");
    return 0;
}

var unknown = options.Suites.Where(n => suites.All(s => s.Name != n)).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"unknown suite(s): {string.Join(", ", unknown)}; available: {string.Join(", ", suites.Select(s => s.Name))}");
    return 2;
}
var selected = options.Suites.Count == 0 ? suites : suites.Where(s => options.Suites.Contains(s.Name)).ToList();

EnginePolicy.Install(policy with { Threads = options.Threads });
var env = new Dictionary<string, string>
{
    ["dotnet"] = Environment.Version.ToString(),
    ["cores"] = Environment.ProcessorCount.ToString(),
    ["threads"] = options.Threads.ToString(),
    ["managed_kernel"] = GemmManaged.Resolve(ManagedKernel.Auto).ToString(),
    ["openblas"] = OpenBlas.IsAvailable ? $"{OpenBlas.LibraryName} core={OpenBlas.CoreName}" : "unavailable",
    ["repeats"] = options.Repeats.ToString(),
    ["sample_ms"] = options.SampleMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
    // Other processes on the same cores distort every number: record how busy the machine was.
    ["loadavg"] = File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a",
};
Console.WriteLine("cedm bench: " + string.Join(", ", env.Select(kv => $"{kv.Key}={kv.Value}")));

foreach (var suite in selected)
{
    Console.WriteLine($"suite {suite.Name}: {suite.Description}");
    var rows = SuiteRunner.Run(suite, options, Console.Out);
    Console.WriteLine();
    Console.Write(SuiteRunner.FormatTable(suite.Name, rows));
    string path = SuiteRunner.WriteJson(options.ResultsDir, suite.Name, rows, env);
    Console.WriteLine($"(written to {Path.GetRelativePath(options.RepoRoot, path)})");
    Console.WriteLine();
}
return 0;
