using Cedm.Data;
using Cedm.Features;
using Cedm.Metrics;
using Cedm.Tensors;
using FluentAssertions;

namespace Cedm.Tests.Features;

/// <summary>Whitened PCA on pixels: whitening, orthonormality, reconstruction, save/load, randomized path.</summary>
public sealed class PcaFeaturesTests
{
    /// <summary>Synthetic 6x6 grey images: 5 random patterns mixed with random weights plus noise.</summary>
    private static ImageDataset Synthetic(int n, int seed)
    {
        var rng = new Rng(seed);
        int size = 36;
        var patterns = new double[5 * size];
        for (int i = 0; i < patterns.Length; i++) patterns[i] = rng.NextNormal();
        var pixels = new byte[n * size];
        for (int i = 0; i < n; i++)
        {
            var w = Enumerable.Range(0, 5).Select(k => rng.NextNormal() * (5 - k)).ToArray();
            for (int p = 0; p < size; p++)
            {
                double v = 128 + 4 * Enumerable.Range(0, 5).Sum(k => w[k] * patterns[k * size + p]) + 2 * rng.NextNormal();
                pixels[i * size + p] = (byte)Math.Clamp(Math.Round(v), 0, 255);
            }
        }
        return new ImageDataset("synthetic", pixels, n, 6, 6, 1);
    }

    [Fact]
    public void WhitenedFeaturesOfTheFitDataHaveIdentityCovariance()
    {
        var data = Synthetic(800, 1);
        var pca = PcaFeatures.Fit(data, 8);
        var y = pca.Extract(data);
        y.ShapeArray().Should().Equal(800, 8);
        var s = FeatureStatistics.FromFeatures(y.Data, 800, 8);
        s.Mean().Should().OnlyContain(m => Math.Abs(m) < 1e-4);
        var cov = s.Covariance();
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++)
                cov[i * 8 + j].Should().BeApproximately(i == j ? 1 : 0, 1e-4, $"cov[{i},{j}]");
        pca.Eigenvalues.Should().BeInDescendingOrder();
    }

    [Fact]
    public void ComponentsAreOrthonormalAndFullRankReconstructs()
    {
        var data = Synthetic(300, 2);
        var pca = PcaFeatures.Fit(data, 36);
        int din = 36;
        for (int a = 0; a < 36; a++)
            for (int b = 0; b < 36; b++)
            {
                double dot = 0;
                for (int p = 0; p < din; p++) dot += (double)pca.Components[a * din + p] * pca.Components[b * din + p];
                dot.Should().BeApproximately(a == b ? 1 : 0, 1e-5);
            }
        // x = mean + Σ_k y_k sqrt(λ_k) c_k for the full-rank (D = D_in) whitened PCA.
        var y = pca.Extract(data).Data;
        var x = PixelFeatures.ToUnitRange(data.Pixels);
        for (int i = 0; i < 20; i++)
            for (int p = 0; p < din; p++)
            {
                double rec = pca.Mean[p];
                for (int k = 0; k < 36; k++) rec += y[i * 36 + k] / pca.Scales[k] * pca.Components[k * din + p];
                rec.Should().BeApproximately(x[i * din + p], 1e-4);
            }
    }

    [Fact]
    public void SaveLoadGivesTheSameFeatures()
    {
        var data = Synthetic(200, 3);
        var pca = PcaFeatures.Fit(data, 4);
        string path = Path.Combine(Path.GetTempPath(), $"cedm-pca-{Guid.NewGuid():N}.safetensors");
        try
        {
            pca.Save(path);
            var loaded = PcaFeatures.Load(path);
            loaded.Name.Should().Be("pca:4");
            loaded.Extract(data).Data.Should().Equal(pca.Extract(data).Data);
            var act = () => pca.Save(path);
            act.Should().Throw<Cedm.IO.OutputExistsException>().WithMessage("*already exists*");
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void RandomizedEigenFindsTheTopEigenpairs()
    {
        var data = Synthetic(500, 4);
        var stats = FeatureStatistics.FromFeatures(PixelFeatures.ToUnitRange(data.Pixels), 500, 36);
        var cov = stats.Covariance();
        var (values, vectors) = RandomizedEigen.Top(cov, 36, 5, new Rng(0));
        var (all, vt) = SymmetricEigen.Decompose(cov, 36);
        for (int k = 0; k < 5; k++)
        {
            values[k].Should().BeApproximately(all[35 - k], 1e-8 * all[35]);
            double dot = 0;
            for (int p = 0; p < 36; p++) dot += vectors[k * 36 + p] * vt[(35 - k) * 36 + p];
            Math.Abs(dot).Should().BeApproximately(1, 1e-6);
        }
    }

    [Fact]
    public void RegistryParsesSpecs()
    {
        var data = Synthetic(100, 5);
        var ctx = new FeatureExtractorContext { ImageShape = (6, 6, 1), FitData = () => data };
        FeatureExtractors.Create("pixels", ctx).Dimension.Should().Be(36);
        FeatureExtractors.Create("pca:3", ctx).Name.Should().Be("pca:3");
        // Default D = 64 exceeds these 36 pixels: refused with the reason.
        var tooBig = () => FeatureExtractors.Create("pca", ctx);
        tooBig.Should().Throw<ArgumentException>().WithMessage("*pca:64*between 1 and the pixel count 36*");
        var bad = () => FeatureExtractors.Create("pca:x", ctx);
        bad.Should().Throw<ArgumentException>().WithMessage("*positive integer*");
        var unknown = () => FeatureExtractors.Create("sift", ctx);
        unknown.Should().Throw<ArgumentException>().WithMessage("*unknown extractor*");
        var missingWeights = () => FeatureExtractors.Create("vit:no-such-weights.safetensors", ctx);
        missingWeights.Should().Throw<FileNotFoundException>().WithMessage("*no-such-weights.safetensors*");
        var noData = () => FeatureExtractors.Create("pca:3", ctx with { FitData = null });
        noData.Should().Throw<SettingException>().WithMessage("*data to fit on*").Which.Setting.Should().Be("FitOn");
    }

    [Fact]
    public void PixelsAreUnitRangeInHwcOrder()
    {
        var d = new ImageDataset("t", [0, 255, 51, 102, 0, 0], 1, 1, 2, 3);
        var y = new PixelFeatures(1, 2, 3).Extract(d);
        y.Data.Should().Equal([0f, 1f, 0.2f, 0.4f, 0f, 0f], (a, b) => Math.Abs(a - b) < 1e-7);
        var wrong = () => new PixelFeatures(2, 2, 3).Extract(d);
        wrong.Should().Throw<ArgumentException>().WithMessage("*2x2x3*");
    }
}
