using System.Text.Json.Nodes;
using Cedm.Clustering;
using FluentAssertions;

namespace Cedm.Tests.Clustering;

public sealed class ClusterAssignmentTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cedm-clusters-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void UtilisationSizesAndPcFollowTheIds()
    {
        var a = new ClusterAssignment("kmeans", 5, [0, 0, 3, 3, 3, 1], [1f, 1f, 1f, 1f, 1f, 1f]);
        a.Sizes.Should().Equal(2, 1, 0, 3, 0);
        a.Utilized.Should().Be(3);
        a.Ratio.Should().Be(0.6);
        a.PC.Should().Equal(2 / 6.0, 1 / 6.0, 0, 3 / 6.0, 0);
        var (ids, used) = a.Compacted();
        used.Should().Equal(0, 1, 3);
        ids.Should().Equal(0, 0, 2, 2, 2, 1);
    }

    [Fact]
    public void SaveAndLoadRoundTripWithTheCliJsonKeys()
    {
        var probs = new float[] { 0.9f, 0.1f, 0.2f, 0.8f, 0.6f, 0.4f };
        var a = new ClusterAssignment("gmm", 2, [0, 1, 0], [0.9f, 0.8f, 0.6f], probs, new JsonObject { ["seed"] = 3 });
        a.Save(_dir);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "clusters.json")))!;
        foreach (var key in new[] { "k", "utilized", "ratio", "sizes", "p_c", "method", "options" })
            json[key].Should().NotBeNull(key);
        var b = ClusterAssignment.Load(_dir);
        (b.Method, b.K, b.Count).Should().Be(("gmm", 2, 3));
        b.Ids.Should().Equal(a.Ids);
        b.Probabilities.Should().Equal(probs);
        b.Confidence.Should().Equal(a.Confidence);
        b.Options!["seed"]!.GetValue<int>().Should().Be(3);
        var again = () => a.Save(_dir);
        again.Should().Throw<Cedm.IO.OutputExistsException>().WithMessage("*already exists*");
    }

    [Fact]
    public void InvalidInputsAreRejected()
    {
        var badId = () => new ClusterAssignment("x", 2, [0, 2], [1f, 1f]);
        badId.Should().Throw<ArgumentException>().WithMessage("*outside [0, 2)*");
        var badConf = () => new ClusterAssignment("x", 2, [0, 1], [1f]);
        badConf.Should().Throw<ArgumentException>();
        var missing = () => ClusterAssignment.Load(_dir);
        missing.Should().Throw<FileNotFoundException>().WithMessage("*ids.npy*");
    }
}
