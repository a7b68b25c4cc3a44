using Cedm.Clustering.TreeVae;
using Cedm.Nn;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;
using FluentAssertions;

namespace Cedm.Tests.Clustering.TreeVae;

/// <summary>CNN-TreeVAE (related-seeds A.5): shapes, gradients against finite differences, saving, and its errors.</summary>
public sealed class ConvTreeVaeTests
{
    private static readonly int[] Image = [1, 12, 12];

    /// <summary>A small CNN-TreeVAE on 12×12 grey images (12 → 6 → 3 → 2), four levels.</summary>
    private static TreeVaeOptions Small() => new()
    {
        Architecture = TreeVaeArchitecture.Cnn, MaxLeaves = 3, LatentChannels = 3, LatentSide = 2, BottomUpChannels = 4,
        ConvChannels = [4, 5], Hidden = 6, Levels = 4, BatchSize = 8, InitialEpochs = 1, SubtreeEpochs = 1, FinalEpochs = 1,
        IntermediateEpochs = 0, KlStart = 1f, KlDecay = 0f,
    };

    private static Tensor Images(int n, ulong seed)
    {
        var rng = new Rng(seed);
        return new Tensor(Enumerable.Range(0, n * 144).Select(_ => rng.NextFloat()).ToArray(), n, 144);
    }

    private static TreeShape ThreeLeaves() => new([[1, 2], [3, 4], [], [], []]);

    [Fact]
    public void ForwardGivesFeatureMapLatentsAndImageSizedDecodes()
    {
        var model = new TreeVaeModel(ThreeLeaves(), Small(), 144, new Rng(1), Image);
        model.LatentSize.Should().Be(3 * 2 * 2);
        var x = Images(5, 2);
        var output = model.Forward(x, new Rng(3));
        output.Samples.Should().AllSatisfy(z => z!.Shape.ToArray().Should().Equal(5, 12));
        foreach (int leaf in model.Leaves) output.Decodes[leaf]!.Shape.ToArray().Should().Equal(5, 144);
        float loss = output.Terms.Loss(1f).Item();
        float.IsFinite(loss).Should().BeTrue();
        loss.Should().BeGreaterThan(0f);

        var probs = model.LeafProbabilities(x);
        for (int i = 0; i < 5; i++) probs.Skip(3 * i).Take(3).Sum().Should().BeApproximately(1f, 1e-5f);
        var (decodes, pi) = model.Generate(4, new Rng(4));
        decodes.Should().HaveCount(3).And.AllSatisfy(d => d.Shape.ToArray().Should().Equal(4, 144));
        decodes.SelectMany(d => d.ToArray()).Should().AllSatisfy(v => v.Should().BeInRange(0f, 1f));
        pi.Should().HaveCount(12);
    }

    /// <summary>
    /// d loss / d θ against central differences, in evaluation mode (running statistics, no dropout, spectral-norm vectors
    /// fixed) and with the same reparameterisation noise every call, for parameters of every kind of block.
    /// </summary>
    [Theory]
    [InlineData("encoder.1.weight")]
    [InlineData("bottom_up0.0.weight")]
    [InlineData("node0.dense.head.var.weight")]
    [InlineData("node1.transform.hidden.1.weight")]
    [InlineData("node0.q_router.mlp.4.weight")]
    [InlineData("node0.p_router.mlp.0.weight")]
    [InlineData("node3.decoder.1.weight_orig")]
    [InlineData("node4.decoder.13.bias")]
    public void GradientsMatchFiniteDifferences(string parameter)
    {
        var model = new TreeVaeModel(ThreeLeaves(), Small(), 144, new Rng(5), Image);
        var x = Images(4, 6);
        model.SetTraining(true);
        using (GradMode.NoGrad()) model.Forward(x, new Rng(7));   // running statistics away from their initial values
        model.SetTraining(false);
        var p = model.NamedParameters().Single(kv => kv.Path == parameter).Tensor;
        double Loss()
        {
            using var _ = GradMode.NoGrad();
            return model.Forward(x, new Rng(8)).Terms.Loss(0.7f).Item();
        }
        foreach (var q in model.Parameters()) q.ZeroGrad();
        model.Forward(x, new Rng(8)).Terms.Loss(0.7f).Backward();
        var grad = p.Grad!.ToArray();
        grad.Should().Contain(g => Math.Abs(g) > 1e-4f, "the parameter takes part in the loss");
        var data = p.Data;
        var rng = new Rng(9);
        for (int t = 0; t < 4; t++)
        {
            int i = rng.NextInt(data.Length);
            float keep = data[i], h = 1e-2f * Math.Max(1f, Math.Abs(keep));
            data[i] = keep + h; double up = Loss();
            data[i] = keep - h; double down = Loss();
            data[i] = keep;
            double numeric = (up - down) / (2 * h);
            Math.Abs(grad[i] - numeric).Should().BeLessThan(2e-2 * Math.Max(1, Math.Abs(numeric)), $"{parameter}[{i}]: autograd {grad[i]}, finite differences {numeric}");
        }
    }

    [Fact]
    public void FitsSavesAndReloadsAsAClusterModel()
    {
        var clusterer = new TreeVaeClusterer(Small() with { MaxLeaves = 2 }) { ImageShape = Image };
        var x = Images(40, 10);
        var a = clusterer.Fit(x, new Rng(11));
        a.K.Should().BeGreaterThanOrEqualTo(1);
        using var dir = new Cedm.Tests.IO.IoAssert.TempDir();
        clusterer.Save(dir.Path, overwrite: false);
        var loaded = (TreeVaeClusterModel)Cedm.Clustering.ClusterModels.Load(dir.Path);
        loaded.Model.Options.Architecture.Should().Be(TreeVaeArchitecture.Cnn);
        loaded.ImageShape.Should().Equal(Image);
        loaded.Predict(x).Ids.Should().Equal(a.Ids);
        loaded.Model.LeafProbabilities(x).Should().Equal(clusterer.LastModel!.Model.LeafProbabilities(x));
    }

    [Fact]
    public void FeatureVectorsAndSidesThatDoNotHalveToTheLatentSideAreRefused()
    {
        var noImage = () => new TreeVaeModel(ThreeLeaves(), Small(), 144, new Rng(1));
        noImage.Should().Throw<ArgumentException>().WithMessage("*square images*vector variant*");
        var odd = () => new TreeVaeModel(ThreeLeaves(), Small() with { LatentSide = 4 }, 144, new Rng(1), Image);
        odd.Should().Throw<ArgumentException>().WithMessage("*side of 12 halves to 3, not to the latent side 4*");
    }
}

/// <summary>The spectral-normalised convolution against the singular value it estimates and against finite differences.</summary>
public sealed class SpectralNormConv2dTests
{
    [Fact]
    public void PowerIterationConvergesToTheLargestSingularValue()
    {
        var conv = new SpectralNormConv2d(3, 5, 3, new Rng(1));
        conv.SetTraining(true);
        for (int i = 0; i < 200; i++) conv.NormalisedWeight();
        // σ of W [5, 27] by power iteration on WᵀW in double, to convergence.
        var w = conv.WeightOrig.Data;
        var v = Enumerable.Repeat(1.0, 27).ToArray();
        double sigma2 = 0;
        for (int it = 0; it < 2000; it++)
        {
            var wv = Enumerable.Range(0, 5).Select(r => Enumerable.Range(0, 27).Sum(c => (double)w[r * 27 + c] * v[c])).ToArray();
            var wtwv = Enumerable.Range(0, 27).Select(c => Enumerable.Range(0, 5).Sum(r => (double)w[r * 27 + c] * wv[r])).ToArray();
            sigma2 = Math.Sqrt(wtwv.Sum(t => t * t)) / Math.Sqrt(v.Sum(t => t * t));
            double norm = Math.Sqrt(wtwv.Sum(t => t * t));
            v = wtwv.Select(t => t / norm).ToArray();
        }
        double sigma = Math.Sqrt(sigma2);
        var normalised = conv.NormalisedWeight().ToArray();
        for (int i = 0; i < w.Length; i++) normalised[i].Should().BeApproximately((float)(w[i] / sigma), 1e-4f);
    }

    [Fact]
    public void GradientOfTheWeightIncludesTheNormalisation()
    {
        var conv = new SpectralNormConv2d(2, 3, 3, new Rng(2));
        conv.SetTraining(true);
        for (int i = 0; i < 20; i++) conv.NormalisedWeight();
        conv.SetTraining(false);
        var x = Tensor.Randn(new Rng(3), [2, 2, 5, 5]);
        var upstream = Tensor.Randn(new Rng(4), [2, 3, 5, 5]);
        double Loss() { using var _ = GradMode.NoGrad(); return (conv.Forward(x) * upstream).Sum().Item(); }
        (conv.Forward(x) * upstream).Sum().Backward();
        var grad = conv.WeightOrig.Grad!.ToArray();
        var data = conv.WeightOrig.Data;
        for (int i = 0; i < data.Length; i += 5)
        {
            float keep = data[i];
            data[i] = keep + 1e-2f; double up = Loss();
            data[i] = keep - 1e-2f; double down = Loss();
            data[i] = keep;
            double numeric = (up - down) / 2e-2;
            grad[i].Should().BeApproximately((float)numeric, (float)(1e-2 * Math.Max(1, Math.Abs(numeric))), $"weight_orig[{i}]");
        }
    }
}
