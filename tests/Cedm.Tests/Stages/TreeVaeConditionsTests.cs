using Cedm.Clustering.TreeVae;
using Cedm.Data;
using Cedm.Stages;
using Cedm.Tensors;
using FluentAssertions;

namespace Cedm.Tests.Stages;

/// <summary>How a TreeVAE decode becomes a Diffuse-TreeVAE condition image (related-seeds A′.1).</summary>
public sealed class TreeVaeConditionsTests
{
    [Fact]
    public void DecodesAreMappedToMinusOneOneAndCentredInThePaddedFrame()
    {
        // One 1x2x2 decode (probabilities) framed into 4x4: a black (−1) border of one pixel.
        var framed = TreeVaeConditions.Frame([[0f, 0.5f, 1f, 0.25f]], 1, 2, 2, 4, 4);
        framed.ShapeArray().Should().Equal(1, 1, 4, 4);
        framed.Data.Should().Equal(
            -1, -1, -1, -1,
            -1, -1, 0, -1,
            -1, 1, -0.5f, -1,
            -1, -1, -1, -1);
        TreeVaeConditions.Frame([[0.5f]], 1, 1, 1, 1, 1).Data.Should().Equal(0f);
        FluentActions.Invoking(() => TreeVaeConditions.Frame([[0f, 0f, 0f, 0f]], 1, 2, 2, 1, 1)).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void SpecsAreRecognisedByTheirPrefix()
    {
        TreeVaeConditions.IsSpec("treevae:/x").Should().BeTrue();
        TreeVaeConditions.IsSpec("tree:/x").Should().BeFalse();
        ConditionSources.TreeFolder("tree:/a").Should().Be("/a");
        ConditionSources.TreeFolder("path:/b").Should().Be("/b");
        ConditionSources.TreeFolder("clusters:/c").Should().BeNull();
    }

    [Fact]
    public void TrainingLeavesFollowThePosteriorAndSamplingRepeatsPerSeed()
    {
        // An untrained 3-leaf tree on 4x4 grey images: its q-routers give some P(l|x); the source must draw l from it.
        var o = Cedm.Tests.Clustering.TreeVae.TreeVaeFitTests.Small(3) with { Likelihood = TreeVaeLikelihood.Bernoulli };
        var edit = TreeGrowth.Split(TreeShape.TwoLeaves(), 1);
        var model = new TreeVaeClusterModel(new TreeVaeModel(edit.Shape, o, 16, new Rng(2)), [1, 4, 4]);
        using var dir = new Cedm.Tests.IO.IoAssert.TempDir();
        model.Save(Path.Combine(dir.Path, Cedm.Clustering.ClusterModels.FileName), overwrite: false);
        var pixels = new byte[2 * 16];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i * 37 % 256);
        var data = new ImageDataset("two", pixels, 2, 4, 4, 1);
        var source = TreeVaeConditions.Source($"treevae:{dir.Path}", data);
        source.LeafCount.Should().Be(3);
        source.Channels.Should().Be(1);

        var expected = model.Model.LeafProbabilities(ClusteringInputs.Pixels(data));
        var rows = Enumerable.Repeat(1, 3000).ToArray();
        var drawn = source.Draw(rows, new Rng(5));
        drawn.Images.ShapeArray().Should().Equal(3000, 1, 4, 4);
        drawn.Images.Data.Should().OnlyContain(v => v >= -1f && v <= 1f);
        for (int l = 0; l < 3; l++)
            (drawn.LeafIds.Count(v => v == l) / 3000.0).Should().BeApproximately(expected[3 + l], 0.03, $"leaf {l} of row 1");
        source.Describe().Kind.Should().Be("treevae");

        var sampler = TreeVaeConditions.Sampler(source.Describe());
        var a = sampler.Draw([new Rng(7), new Rng(8)], null, 6, 6);
        var b = sampler.Draw([new Rng(7)], null, 6, 6);
        a.Images.ShapeArray().Should().Equal(2, 1, 6, 6);
        b.LeafIds[0].Should().Be(a.LeafIds[0]);
        b.Images.Data.Should().Equal(a.Images.Data.Take(36), "a condition depends on its seed alone");
        var fixedLeaf = sampler.Draw([new Rng(7)], 2, 6, 6);
        fixedLeaf.LeafIds.Should().Equal(2);
    }
}
