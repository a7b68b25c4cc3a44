using System.Text.RegularExpressions;
using FluentAssertions;

namespace Cedm.Tests.Architecture;

/// <summary>
/// The dependency rules of docs/architecture.md, checked on the sources: a file in a layer may not name a namespace
/// that layer must not use (a using directive or a qualified name), and nothing in the library talks to the console
/// or knows the CLI. The checker itself is tested on made-up sources, so a rule that can never fire is noticed.
/// </summary>
public sealed partial class LayeringTests
{
    /// <summary>(folder under src/Cedm.Core, namespaces it must not reference, why).</summary>
    public static readonly (string Folder, string[] Forbidden, string Why)[] Rules =
    [
        ("Tensors", ["Cedm.Nn", "Cedm.IO", "Cedm.Data", "Cedm.Imaging", "Cedm.Features", "Cedm.Clustering", "Cedm.Diffusion", "Cedm.Metrics", "Cedm.Stages", "Cedm.Pipeline", "Cedm.Reporting"],
            "the engine is the bottom layer: tensors, kernels and autograd know no model, file or stage"),
        ("Nn", ["Cedm.Data", "Cedm.Imaging", "Cedm.Features", "Cedm.Clustering", "Cedm.Diffusion", "Cedm.Metrics", "Cedm.Stages", "Cedm.Pipeline", "Cedm.Reporting"],
            "modules and optimisers are generic building blocks"),
        ("IO", ["Cedm.Nn", "Cedm.Data", "Cedm.Imaging", "Cedm.Features", "Cedm.Clustering", "Cedm.Diffusion", "Cedm.Metrics", "Cedm.Stages", "Cedm.Pipeline", "Cedm.Reporting"],
            "file formats (.npy, .safetensors) know nothing of what is stored in them"),
        ("Diffusion", ["Cedm.Clustering", "Cedm.Features", "Cedm.Metrics", "Cedm.Stages", "Cedm.Pipeline", "Cedm.Reporting"],
            "the generator needs condition ids, p(c) and scores, not how clusters were found (Stages/ConditionSources adapts)"),
        ("Clustering", ["Cedm.Diffusion", "Cedm.Features", "Cedm.Stages", "Cedm.Pipeline", "Cedm.Reporting"],
            "clusterers take feature matrices; they do not know where features come from or what conditions on them"),
        ("Features", ["Cedm.Clustering", "Cedm.Diffusion", "Cedm.Stages", "Cedm.Pipeline", "Cedm.Reporting"],
            "extractors map images to vectors for every consumer alike"),
        ("Metrics", ["Cedm.Clustering", "Cedm.Diffusion", "Cedm.Stages", "Cedm.Pipeline", "Cedm.Reporting"],
            "metrics compare feature sets and label vectors"),
        ("Data", ["Cedm.Nn", "Cedm.Features", "Cedm.Clustering", "Cedm.Diffusion", "Cedm.Metrics", "Cedm.Stages", "Cedm.Pipeline", "Cedm.Reporting"],
            "sources read images and labels"),
        ("Imaging", ["Cedm.Nn", "Cedm.Data", "Cedm.Features", "Cedm.Clustering", "Cedm.Diffusion", "Cedm.Metrics", "Cedm.Stages", "Cedm.Pipeline", "Cedm.Reporting"],
            "codecs read and write pictures"),
        ("Reporting", ["Cedm.Stages", "Cedm.Pipeline"], "the HTML report is a page builder; the pipelines decide what goes in it"),
        ("Stages", ["Cedm.Pipeline", "Cedm.Reporting"], "a stage is one step a verb or a pipeline calls; it does not know the pipelines"),
        ("Distributed", ["Cedm.Tensors", "Cedm.Nn", "Cedm.IO", "Cedm.Data", "Cedm.Imaging", "Cedm.Features", "Cedm.Clustering", "Cedm.Diffusion", "Cedm.Metrics", "Cedm.Stages", "Cedm.Pipeline", "Cedm.Reporting"],
            "the communicator binds MPI and moves spans; the layers that train or sample use it"),
    ];

    /// <summary>Namespaces and types no file of the library may use.</summary>
    public static readonly string[] ForbiddenEverywhere = ["Cedm.Cli", "System.Console", "Spectre.Console", "System.CommandLine"];

    [GeneratedRegex(@"^\s*using\s+(?:static\s+)?(?:\w+\s*=\s*)?(?<ns>[\w.]+)\s*;", RegexOptions.Multiline)]
    private static partial Regex UsingDirective();

    /// <summary>The violations in one file's text: forbidden namespaces in using directives or qualified names, and console use.</summary>
    public static IReadOnlyList<string> Violations(string text, IEnumerable<string> forbidden)
    {
        var found = new List<string>();
        var code = StripComments(text);
        var usings = UsingDirective().Matches(code).Select(m => m.Groups["ns"].Value).ToList();
        foreach (var ns in forbidden.Concat(ForbiddenEverywhere))
        {
            if (usings.Any(u => u == ns || u.StartsWith(ns + ".", StringComparison.Ordinal))) found.Add($"using {ns}");
            else if (Regex.IsMatch(code, $@"(?<![\w.]){Regex.Escape(ns)}\.\w")) found.Add($"qualified {ns}.");
        }
        if (Regex.IsMatch(code, @"(?<![\w.])Console\.(Write|Error|Out|In|Read)")) found.Add("Console (only front ends print)");
        return found;
    }

    /// <summary>Drops // and /* */ comments (doc comments may mention anything).</summary>
    private static string StripComments(string text) =>
        Regex.Replace(Regex.Replace(text, @"/\*.*?\*/", "", RegexOptions.Singleline), @"//.*$", "", RegexOptions.Multiline);

    private static string CoreFolder()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Cedm.slnx"))) dir = dir.Parent;
        dir.Should().NotBeNull("the tests run inside the repository");
        return Path.Combine(dir!.FullName, "src", "Cedm.Core");
    }

    [Fact]
    public void EveryCoreFolderKeepsToItsDependencyRules()
    {
        string core = CoreFolder();
        var problems = new List<string>();
        foreach (var file in Directory.EnumerateFiles(core, "*.cs", SearchOption.AllDirectories))
        {
            string rel = Path.GetRelativePath(core, file);
            if (rel.StartsWith("obj" + Path.DirectorySeparatorChar, StringComparison.Ordinal) || rel.StartsWith("bin" + Path.DirectorySeparatorChar, StringComparison.Ordinal)) continue;
            string top = rel.Split(Path.DirectorySeparatorChar)[0];
            var rule = Rules.FirstOrDefault(r => r.Folder == top);
            foreach (var v in Violations(File.ReadAllText(file), rule.Forbidden ?? []))
                problems.Add($"{rel}: {v}{(rule.Why is null || v.StartsWith("Console", StringComparison.Ordinal) ? "" : $" ({rule.Why})")}");
        }
        problems.Should().BeEmpty();
    }

    [Fact]
    public void EveryTopFolderOfTheLibraryHasARuleOrIsATopLayer()
    {
        var folders = Directory.GetDirectories(CoreFolder()).Select(Path.GetFileName).Where(f => f is not ("bin" or "obj")).ToList();
        folders.Except(Rules.Select(r => r.Folder)).Should().BeEquivalentTo(["Pipeline"], "Pipeline is the only layer that may use every other one");
    }

    [Fact]
    public void TheLibraryAssemblyReferencesNoFrontEnd()
    {
        var refs = typeof(Cedm.Stages.FeatureStage).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();
        refs.Should().NotContain(["cedm", "Spectre.Console", "System.CommandLine"]);
    }

    [Theory]
    [InlineData("using Cedm.Clustering;\nclass A {}", "using Cedm.Clustering")]
    [InlineData("using Cedm.Clustering.Bounds;\nclass A {}", "using Cedm.Clustering")]
    [InlineData("class A { Cedm.Clustering.ClusterAssignment? a; }", "qualified Cedm.Clustering.")]
    [InlineData("class A { void F() { System.Console.WriteLine(1); } }", "qualified System.Console.")]
    [InlineData("class A { void F() { Console.Error.WriteLine(1); } }", "Console (only front ends print)")]
    [InlineData("using Cedm.Cli;", "using Cedm.Cli")]
    public void TheCheckerFindsForbiddenReferences(string source, string expected) =>
        Violations(source, ["Cedm.Clustering"]).Should().Contain(expected);

    [Theory]
    [InlineData("/// <see cref=\"Cedm.Clustering.ClusterAssignment\"/>\nclass A {}")]
    [InlineData("// Cedm.Clustering is not used here\nclass A {}")]
    [InlineData("using Cedm.ClusteringExtras;\nclass A {}")]
    [InlineData("class A { ConsoleLike.Write(); }")]
    public void TheCheckerIgnoresCommentsAndLookalikes(string source) =>
        Violations(source, ["Cedm.Clustering"]).Should().BeEmpty();
}
