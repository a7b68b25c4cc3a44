using System.Runtime.CompilerServices;
using Cedm.Tensors;

namespace Cedm.Tests.TestUtilities;

/// <summary>
/// The test assembly's entry point for the engine policy: like the CLI, it installs what the environment asks for
/// (CEDM_THREADS, CEDM_GEMM, CEDM_ARENA) before any test runs. Tests that need other settings open an
/// <see cref="EnginePolicy.Override"/> scope, which never reaches tests running concurrently.
/// </summary>
internal static class EngineSetup
{
    // CA2255 warns that module initializers are meant for applications; a test assembly has no Main to do this in.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void InstallFromEnvironment()
    {
        var (policy, warnings) = EnginePolicy.FromEnvironment();
        foreach (string warning in warnings) Console.Error.WriteLine($"cedm tests: {warning}");
        EnginePolicy.Install(policy);
    }
}
