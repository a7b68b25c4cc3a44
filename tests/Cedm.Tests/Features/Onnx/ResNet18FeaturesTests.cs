using Cedm.Data;
using Cedm.Features;
using Cedm.Features.Onnx;
using Cedm.Tests.TestUtilities;
using FluentAssertions;
using Xunit.Abstractions;

namespace Cedm.Tests.Features.Onnx;

/// <summary>
/// The ResNet-18 port on cedm's engine against ONNX Runtime running the package's own two graphs (preprocessing +
/// network) on real Fashion-MNIST images at the exported 224×224. The package is restored by the test suite's
/// set-up (tools/install-deps.sh): when it is missing the tests fail and name that command rather than skip.
/// </summary>
public sealed class ResNet18FeaturesTests(ITestOutputHelper output)
{
    private static void RequirePackage() => Assert.True(PretrainedResNet18.IsRestored(),
        $"the ResNet-18 package is not restored ({PretrainedResNet18.PackageDirectory()}); run `{PretrainedResNet18.SetupCommand}`");

    private static ImageDataset FewImages(int n) =>
        FashionMnist.Load(DataSplit.Test).Select(Enumerable.Range(0, n).Select(i => i * 997 % 10000).ToArray());

    [Fact]
    public void PortAt224_MatchesOnnxRuntime()
    {
        RequirePackage();
        var images = FewImages(4);
        using var ours = ResNet18Features.Create(224, batchSize: 4);
        using var ort = ResNet18Features.OnnxRuntime();
        var a = ours.Extract(images);
        var e = ort.Extract(images);
        double maxAbs = 0, maxRef = 0;
        for (int i = 0; i < e.Size; i++) { maxAbs = Math.Max(maxAbs, Math.Abs(a.Data[i] - e.Data[i])); maxRef = Math.Max(maxRef, Math.Abs(e.Data[i])); }
        output.WriteLine($"max |ours - ORT| = {maxAbs:G3}, max |ORT| = {maxRef:G3}, relative {maxAbs / maxRef:G3}");
        Assert.True(maxRef > 0.1, "ORT's features are all near zero: the comparison would be vacuous");
        // Float32 through 21 folded convs: agreement to 1e-4 of the largest feature, element-wise 1e-3 relative.
        TensorAssert.Close(e, a, atol: 1e-4 * maxRef, rtol: 1e-3, "resnet18 port vs ONNX Runtime");
    }

    [Fact]
    public void Preprocess_At224_IsTheShippedGraph()
    {
        RequirePackage();
        var images = FewImages(2);
        using var ours = ResNet18Features.Create(224, batchSize: 2);
        using var prep = new OnnxRuntimeSession(PretrainedResNet18.PreprocessPath());
        var expected = prep.Run(ours.ResizedRgb(images, 0, 2));
        var actual = ours.Preprocess(images, 0, 2);
        TensorAssert.Close(expected, actual, atol: 1e-4, rtol: 1e-6, "BGR minus mean image");
    }

    [Fact]
    public void OtherResolutions_GiveFeaturesOfTheSameLength_CloseTo224()
    {
        RequirePackage();
        var images = FewImages(2);
        using var at224 = ResNet18Features.Create(224);
        using var at128 = ResNet18Features.Create(128);
        var a = at224.Extract(images);
        var b = at128.Extract(images);
        Assert.Equal([2, 512], b.Shape.ToArray());
        // The same image at two resolutions: the features correlate strongly (a wrong pool or mean would not).
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < 512; i++) { dot += a.Data[i] * b.Data[i]; na += a.Data[i] * a.Data[i]; nb += b.Data[i] * b.Data[i]; }
        double cos = dot / Math.Sqrt(na * nb);
        output.WriteLine($"cosine(224, 128) = {cos:F4}");
        Assert.True(cos > 0.7, $"cosine {cos} between the 224 and 128 features of one image");
    }

    [Fact]
    public void Registry_ParsesSizesAndRejectsBadArguments()
    {
        RequirePackage();
        var context = new FeatureExtractorContext { ImageShape = (28, 28, 1) };
        using (var e = (ResNet18Features)FeatureExtractors.Create("resnet18", context)) { Assert.True(e.UsesOnnxRuntime); Assert.Equal(224, e.Size); Assert.Equal("resnet18", e.Name); }
        using (var e = (ResNet18Features)FeatureExtractors.Create("resnet18:ort", context)) Assert.True(e.UsesOnnxRuntime);
        using (var e = (ResNet18Features)FeatureExtractors.Create("resnet18:64", context)) { Assert.Equal(64, e.Size); Assert.Equal("resnet18:64", e.Name); }
        Assert.Throws<ArgumentException>(() => FeatureExtractors.Create("resnet18:big", context)).Message.Should().Contain("resnet18:<size>");
        Assert.Throws<ArgumentException>(() => FeatureExtractors.Create("resnet18:16", context)).Message.Should().Contain("multiple of 32");
    }

    [Fact]
    public void MissingPackage_NamesTheSetupCommand()
    {
        string empty = Path.Combine(Path.GetTempPath(), $"cedm-no-nuget-{Environment.ProcessId}");
        var e = Assert.Throws<FileNotFoundException>(() => PretrainedResNet18.NetworkPath(empty));
        e.Message.Should().Contain("tools/install-deps.sh").And.Contain(empty).And.Contain("Microsoft.ML.DnnImageFeaturizer.ResNet18".ToLowerInvariant());
    }
}
