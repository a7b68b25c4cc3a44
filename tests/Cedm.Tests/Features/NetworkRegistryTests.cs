using Cedm.Features;
using Cedm.Features.Inception;
using Cedm.Features.Vit;

namespace Cedm.Tests.Features;

/// <summary>The registry creates the pretrained-network extractors from "vit:&lt;path&gt;" and "inception:&lt;path&gt;".</summary>
public class NetworkRegistryTests
{
    private static readonly FeatureExtractorContext Context = new() { ImageShape = (28, 28, 1) };

    [Fact]
    public void CreatesVitAndInceptionFromTheirWeights()
    {
        string vitPath = NetworkFixtures.PathOf("vit/vit_dinov2_ls_reg_p8.safetensors");
        var vit = FeatureExtractors.Create($"vit:{vitPath}", Context);
        Assert.IsType<VitFeatures>(vit);
        Assert.Equal($"vit:{vitPath}", vit.Name);
        Assert.Equal(32, vit.Dimension);
        Assert.Equal(vit.Name, FeatureExtractors.Resolved(vit, null));

        string incPath = NetworkFixtures.PathOf("inception/inception_w16.safetensors");
        var inc = FeatureExtractors.Create($"inception:{incPath}", Context);
        Assert.IsType<InceptionFeatures>(inc);
        Assert.Equal(128, inc.Dimension);
    }

    [Fact]
    public void MissingWeightsAreClearErrors()
    {
        var e = Assert.Throws<ArgumentException>(() => FeatureExtractors.Create("vit", Context));
        Assert.Contains("vit:<weights.safetensors>", e.Message);
        var f = Assert.Throws<FileNotFoundException>(() => FeatureExtractors.Create("inception:/nope/pt_inception.safetensors", Context));
        Assert.Contains("/nope/pt_inception.safetensors", f.Message);
        // The ViT fixture is not an Inception checkpoint: the error names the file and the missing anchor key.
        var g = Assert.Throws<InvalidDataException>(() =>
            FeatureExtractors.Create($"inception:{NetworkFixtures.PathOf("vit/vit_dino_p8.safetensors")}", Context));
        Assert.Contains("vit_dino_p8.safetensors: no tensor 'Conv2d_1a_3x3.conv.weight'", g.Message);
    }
}
