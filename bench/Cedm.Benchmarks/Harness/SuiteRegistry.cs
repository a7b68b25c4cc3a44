using Cedm.Benchmarks.Suites;

namespace Cedm.Benchmarks.Harness;

/// <summary>All suites. Adding a suite = one file in Suites/ + one line here (+ an optional peer script).</summary>
public static class SuiteRegistry
{
    public static IReadOnlyList<Func<IBenchSuite>> All { get; } =
    [
        () => new GemmSuite(),
        () => new ConvSuite(),
        () => new GroupNormSuite(),
        () => new ClusteringSuite(),
        () => new FeatureNetworksSuite(),
        () => new ResNet18Suite(),
        () => new DiffusionSuite(),
        () => new TrainProfileSuite(),
        () => new TemiSuite(),
    ];
}
