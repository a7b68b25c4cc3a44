using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Cedm.Tensors;
using FluentAssertions;

namespace Cedm.Tests.Architecture;

/// <summary>
/// Cedm.Core never writes to the console: it returns messages (EnginePolicy.FromEnvironment's warnings, results,
/// progress through an observer) and the entry points decide what to print. Checked on the compiled assembly, so a
/// call hidden behind a using alias or a fully qualified name is found too.
/// </summary>
public class CoreConsoleTests
{
    [Fact]
    public void Core_references_no_member_of_System_Console()
    {
        string path = typeof(EnginePolicy).Assembly.Location;
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        var md = pe.GetMetadataReader();
        var consoleMembers = new List<string>();
        foreach (var handle in md.MemberReferences)
        {
            var member = md.GetMemberReference(handle);
            if (member.Parent.Kind != HandleKind.TypeReference) continue;
            var type = md.GetTypeReference((TypeReferenceHandle)member.Parent);
            if (md.GetString(type.Namespace) == "System" && md.GetString(type.Name) == "Console")
                consoleMembers.Add("Console." + md.GetString(member.Name));
        }
        // The check must be able to see member references at all (Core calls Math members everywhere).
        md.MemberReferences.Count.Should().BeGreaterThan(100);
        consoleMembers.Should().BeEmpty("Core returns messages to its callers instead of printing them");
    }
}
