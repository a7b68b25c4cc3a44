using Cedm.Data;
using Cedm.Features;
using Cedm.Features.Evaluator;
using Cedm.Metrics;
using Cedm.Tensors;
using FluentAssertions;

namespace Cedm.Tests.Features.Evaluator;

/// <summary>
/// The committed models/fmnist-evaluator.safetensors on real Fashion-MNIST: recorded accuracy, deterministic
/// features, and the FD_fmnist sanity ordering in a fast form (500 images per set; the 10k version is in
/// bench/experiments/fd_fmnist_sanity.sh).
/// </summary>
public sealed class ShippedEvaluatorTests
{
    private static readonly Lazy<FashionEvaluatorFeatures> Shipped = new(() =>
        (FashionEvaluatorFeatures)FeatureExtractors.Create("fmnist", new FeatureExtractorContext { ImageShape = (28, 28, 1) }));

    private static readonly Lazy<(ImageDataset Train, ImageDataset Test)> Real = new(() =>
        (DataSource.Load("fashion-mnist:train"), DataSource.Load("fashion-mnist:test")));

    /// <summary>x' = clip(x/255 + σ·ε, 0, 1) re-quantised to bytes, ε ~ N(0, 1) per pixel (σ in [0, 1] pixel units).</summary>
    internal static ImageDataset WithNoise(ImageDataset images, double sigma, int seed)
    {
        var rng = new Rng(seed);
        var px = new byte[images.Pixels.Length];
        for (int i = 0; i < px.Length; i++)
            px[i] = (byte)Math.Round(Math.Clamp(images.Pixels[i] / 255.0 + sigma * rng.NextNormal(), 0, 1) * 255);
        return new ImageDataset($"{images.Name}+noise{sigma}", px, images.Count, images.Height, images.Width, images.Channels);
    }

    private static ImageDataset Subset(ImageDataset images, int n, int seed) =>
        images.Select(new Rng(seed).Permutation(images.Count).Take(n).ToArray());

    private static double Fd(Tensor a, Tensor b) =>
        FrechetDistance.FromFeatures(a.Data, a.Dim(0), b.Data, b.Dim(0), a.Dim(1));

    [Fact]
    public void TheShippedFileIsSmallAndRecordsAtLeastNinetyPercentTestAccuracy()
    {
        var fx = Shipped.Value;
        new FileInfo(fx.WeightsPath).Length.Should().BeLessThan(1 << 20);
        fx.Metadata["cedm_kind"].Should().Be(FashionEvaluatorFeatures.Kind);
        fx.TestAccuracy.Should().BeGreaterThanOrEqualTo(0.90);
        File.Exists(FashionEvaluatorFeatures.SidePath(fx.WeightsPath)).Should().BeTrue();
        Cedm.Stages.EvalStage.DefaultEvaluator("fashion-mnist:test").Should().Be("fmnist");
        Cedm.Stages.EvalStage.DefaultEvaluator("cifar10:/data").Should().Be("pca:64");
        FeatureExtractors.WithDefaultFiles("fmnist").Should().Be($"fmnist:{fx.WeightsPath}");
        FeatureExtractors.WithDefaultFiles("pca:64").Should().Be("pca:64");
    }

    /// <summary>Class purity (related-seeds A′.1): real images grouped by their label are pure, grouped at random not.</summary>
    [Fact]
    public void ClassPurityIsHighForLabelGroupsAndLowForRandomGroups()
    {
        var fx = Shipped.Value;
        var test = Real.Value.Test.Select(Enumerable.Range(0, 500).ToArray());
        var features = fx.Extract(test).Data;
        var byLabel = Cedm.Stages.ClassPurity.Compute(fx, features, 500, test.Labels!);
        ((double)byLabel["mean"]!).Should().BeGreaterThan(0.85);
        byLabel["per_condition"]!.AsObject().Should().HaveCount(10);
        var first = byLabel["per_condition"]!["0"]!;
        ((int)first["top_class"]!).Should().Be(0);
        first["histogram"]!.AsArray().Sum(v => (int)v!).Should().Be((int)first["n"]!);
        var random = Enumerable.Range(0, 500).Select(i => (long)(i * 7 % 10)).ToArray();
        ((double)Cedm.Stages.ClassPurity.Compute(fx, features, 500, random)["mean"]!).Should().BeLessThan(0.3);
    }

    [Fact]
    public void FeaturesOfRealTestImagesAreDeterministicAndClassifyThem()
    {
        var fx = Shipped.Value;
        var test = Real.Value.Test.Select(Enumerable.Range(0, 200).ToArray());
        var a = fx.Extract(test);
        fx.Extract(test).Data.Should().Equal(a.Data);
        FashionEvaluatorFeatures.Load(fx.WeightsPath).Extract(test).Data.Should().Equal(a.Data);
        FashionClassifierTrainer.Accuracy(fx.Model, test).Should().BeGreaterThan(0.85);
    }

    [Fact]
    public void FdIsSmallForRealImagesAndGrowsWithNoise()
    {
        var fx = Shipped.Value;
        var (trainAll, testAll) = Real.Value;
        var train = fx.Extract(Subset(trainAll, 500, 1));
        var testImages = Subset(testAll, 500, 2);
        double real = Fd(train, fx.Extract(testImages));
        var sigmas = new[] { 0.1, 0.2, 0.3, 0.5 };
        var noisy = sigmas.Select(s => Fd(train, fx.Extract(WithNoise(testImages, s, 3)))).ToArray();
        var pure = new byte[500 * 784];
        new Random(4).NextBytes(pure);
        double noise = Fd(train, fx.Extract(new ImageDataset("noise", pure, 500, 28, 28, 1)));

        string table = $"real {real:G4}; " + string.Join("; ", sigmas.Zip(noisy, (s, f) => $"σ {s}: {f:G4}")) + $"; pure noise {noise:G4}";
        real.Should().BeLessThan(noisy[0], table);
        for (int i = 1; i < noisy.Length; i++) noisy[i].Should().BeGreaterThan(noisy[i - 1], table);
        noise.Should().BeGreaterThan(10 * real, table);
    }
}
