using Cedm.Diffusion.Networks;
using Cedm.Nn;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Tests.Diffusion;

public class SongUNetTests
{
    private static long CountUnder(SongUNet net, string prefix) =>
        net.NamedParameters().Where(p => p.Path.StartsWith(prefix + ".", StringComparison.Ordinal)).Sum(p => (long)p.Tensor.Size);

    [Fact]
    public void SmallHasTheSpecsParameterCountPerModuleAndInTotal()
    {
        var net = new SongUNet(SongUNetOptions.Small(), new Rng(1));
        Assert.Equal(6_987_585, net.ParameterCount());
        // Spec §2.6 table, module by module.
        var expected = new Dictionary<string, long>
        {
            ["map_layer0"] = 16_640, ["map_layer1"] = 65_792, ["enc.32x32_conv"] = 640,
            ["enc.32x32_block0"] = 90_560, ["enc.32x32_block1"] = 90_560, ["enc.16x16_down"] = 94_720,
            ["enc.16x16_block0"] = 263_040, ["enc.16x16_block1"] = 328_576, ["enc.8x8_down"] = 345_088,
            ["enc.8x8_block0"] = 394_880, ["enc.8x8_block1"] = 394_880, ["dec.8x8_in0"] = 394_880, ["dec.8x8_in1"] = 328_576,
            ["dec.8x8_block0"] = 509_184, ["dec.8x8_block1"] = 509_184, ["dec.8x8_block2"] = 575_488,
            ["dec.16x16_up"] = 345_088, ["dec.16x16_block0"] = 509_184, ["dec.16x16_block1"] = 509_184,
            ["dec.16x16_block2"] = 427_136, ["dec.32x32_up"] = 345_088, ["dec.32x32_block0"] = 176_896,
            ["dec.32x32_block1"] = 135_808, ["dec.32x32_block2"] = 135_808, ["dec.32x32_aux_norm"] = 128,
            ["dec.32x32_aux_conv"] = 577,
        };
        foreach (var (prefix, count) in expected) Assert.True(count == CountUnder(net, prefix), $"{prefix}: {CountUnder(net, prefix)} != {count}");
        Assert.Equal(expected.Values.Sum(), net.ParameterCount());
        Assert.Equal([64, 64, 64, 64, 128, 128, 128, 128, 128], net.SkipChannels);
    }

    [Theory]
    [InlineData(10, 0, 6_988_289)]
    [InlineData(0, 9, 6_988_161)]
    [InlineData(10, 9, 6_988_865)]
    [InlineData(3, 0, 6_987_585 + 3 * 64 + 64)]
    public void SmallConditionalAndAugmentedCounts(int labels, int augment, long count) =>
        Assert.Equal(count, new SongUNet(SongUNetOptions.Small(labels, augment), new Rng(1)).ParameterCount());

    [Fact]
    public void CifarEdmHasTheReferenceParameterCount()
    {
        // One build (55M floats): with K = 10 labels, and without map_label's K·128 + 128.
        var net = new SongUNet(SongUNetOptions.CifarEdm(labelDim: 10), new Rng(1));
        Assert.Equal(55_735_299, net.ParameterCount());
        Assert.Equal(55_733_891, net.ParameterCount() - CountUnder(net, "map_label"));
        Assert.Equal(1_576_192, CountUnder(net, "enc.16x16_block0"));
        Assert.Equal(2_297_856, CountUnder(net, "dec.16x16_block4"));
        Assert.Equal(1_706_240, CountUnder(net, "dec.32x32_block4"));
        Assert.Equal(6_915, CountUnder(net, "dec.32x32_aux_conv"));
        Assert.Equal(1_152, CountUnder(net, "map_augment"));
    }

    [Fact]
    public void ParameterPathsFollowTheReference()
    {
        var names = new SongUNet(SongUNetOptions.Small(labelDim: 4, augmentDim: 9), new Rng(1)).NamedParameters().Select(p => p.Path).ToList();
        Assert.Equal("map_label.weight", names[0]);
        Assert.Equal(["map_label.weight", "map_label.bias", "map_augment.weight", "map_layer0.weight", "map_layer0.bias", "map_layer1.weight", "map_layer1.bias",
            "enc.32x32_conv.weight", "enc.32x32_conv.bias", "enc.32x32_block0.norm0.weight", "enc.32x32_block0.norm0.bias",
            "enc.32x32_block0.conv0.weight", "enc.32x32_block0.conv0.bias", "enc.32x32_block0.affine.weight", "enc.32x32_block0.affine.bias",
            "enc.32x32_block0.norm1.weight", "enc.32x32_block0.norm1.bias", "enc.32x32_block0.conv1.weight", "enc.32x32_block0.conv1.bias"], names.Take(19));
        foreach (var n in new[] { "enc.16x16_down.skip.weight", "enc.8x8_block1.qkv.weight", "enc.8x8_block1.proj.bias", "enc.8x8_block1.norm2.weight",
                     "dec.8x8_in0.qkv.weight", "dec.8x8_in1.conv1.weight", "dec.16x16_up.skip.weight", "dec.32x32_block2.conv1.weight",
                     "dec.32x32_aux_norm.weight", "dec.32x32_aux_conv.weight", "dec.32x32_aux_conv.bias" })
            Assert.Contains(n, names);
        Assert.DoesNotContain("dec.8x8_in1.qkv.weight", names);
        Assert.DoesNotContain("enc.32x32_block1.skip.weight", names);
        Assert.Contains("dec.8x8_block2.qkv.weight", names);
        Assert.DoesNotContain("dec.8x8_block1.qkv.weight", names);
    }

    [Fact]
    public void GroupNormsFollowTheMinOf32AndQuarterChannelsRule()
    {
        var net = new SongUNet(SongUNetOptions.Small(), new Rng(1));
        var norms = net.NamedModules().Where(m => m.Module is GroupNorm).ToDictionary(m => m.Path, m => (GroupNorm)m.Module);
        Assert.All(norms.Values, g => Assert.Equal(Math.Min(32, g.Channels / 4), g.Groups));
        Assert.All(norms.Values, g => Assert.Equal(1e-6f, g.Eps));
        Assert.Equal(16, norms["enc.32x32_block0.norm0"].Groups);  // 64 ch
        Assert.Equal(32, norms["dec.16x16_block2.norm0"].Groups);  // 192 ch
        Assert.Equal(32, norms["dec.8x8_block0.norm0"].Groups);    // 256 ch
        var tiny = new SongUNet(SongUNetOptions.Tiny(), new Rng(1));
        var tnorms = tiny.NamedModules().Where(m => m.Module is GroupNorm).ToDictionary(m => m.Path, m => (GroupNorm)m.Module);
        Assert.Equal(8, tnorms["enc.32x32_block0.norm0"].Groups);  // 32 ch
        Assert.Equal(24, tnorms["dec.32x32_block0.norm0"].Groups); // 64 + 32 = 96 ch
    }

    [Fact]
    public void InitialisationFollowsTheScheme()
    {
        var net = new SongUNet(SongUNetOptions.Small(labelDim: 5), new Rng(3));
        foreach (var (path, t) in net.NamedParameters())
        {
            if (path.EndsWith(".bias", StringComparison.Ordinal))
                Assert.True(t.Data.All(v => v == 0f), $"{path} should start at 0");
            else if (path.EndsWith("norm0.weight") || path.EndsWith("norm1.weight") || path.EndsWith("norm2.weight") || path.EndsWith("aux_norm.weight"))
                Assert.True(t.Data.All(v => v == 1f), $"{path} should start at 1");
        }
        var p = net.NamedParameters().ToDictionary(x => x.Path, x => x.Tensor);
        // init_zero: xavier_uniform ×1e-5 (tiny but not zero); init_attn ×√0.2; init ×1.
        float Bound(int fanIn, int fanOut, double scale) => (float)(scale * Math.Sqrt(6.0 / (fanIn + fanOut)));
        void InBound(string name, float bound)
        {
            var t = p[name];
            Assert.True(t.Max() <= bound && t.Min() >= -bound && Math.Max(t.Max(), -t.Min()) > 0.9f * bound, $"{name}: range [{t.Min()}, {t.Max()}] vs ±{bound}");
        }
        InBound("enc.32x32_block0.conv1.weight", Bound(64 * 9, 64 * 9, 1e-5));
        InBound("dec.32x32_aux_conv.weight", Bound(64 * 9, 1 * 9, 1e-5));
        InBound("enc.8x8_block0.proj.weight", Bound(128, 128, 1e-5));
        InBound("enc.8x8_block0.qkv.weight", Bound(128, 384, Math.Sqrt(0.2)));
        InBound("enc.32x32_block0.conv0.weight", Bound(64 * 9, 64 * 9, 1));
        InBound("map_layer0.weight", Bound(64, 256, 1));
        InBound("map_label.weight", Bound(5, 64, 1));
    }

    [Fact]
    public void TinyForwardShapesAndConditioning()
    {
        var net = new SongUNet(SongUNetOptions.Tiny(labelDim: 3), new Rng(5)).Eval();
        var rng = new Rng(6);
        var x = Tensor.Randn(rng, [2, 1, 32, 32]);
        var c = Tensor.FromArray([0.3f, -1f], 2);
        using var _ = GradMode.NoGrad();
        var y0 = net.Forward(x, c, null, null, null);
        Assert.Equal([2, 1, 32, 32], y0.ShapeArray());
        Assert.True(y0.AllFinite());
        // A null label is the all-zero row; a real label changes the output.
        var zeros = net.Forward(x, c, Tensor.Zeros(2, 3), null, null);
        Assert.Equal(y0.Data, zeros.Data);
        var y1 = net.Forward(x, c, OneHot.FromIds([0, 2], 3), null, null);
        Assert.NotEqual(y0.Data, y1.Data);
        Assert.Throws<ArgumentException>(() => net.Forward(x, c, Tensor.Zeros(2, 4), null, null));
        Assert.Throws<ArgumentException>(() => net.Forward(x, c, null, Tensor.Zeros(2, 9), null));
        Assert.Throws<ArgumentException>(() => net.Forward(Tensor.Zeros(2, 1, 28, 28), c, null, null, null));
    }

    [Fact]
    public void DropoutIsActiveOnlyInTrainingAndFollowsItsRng()
    {
        var net = new SongUNet(TestNets.Micro(dropout: 0.5f), new Rng(5));
        // Make conv1 matter (its init is ~1e-5) so dropout visibly changes the output.
        foreach (var (path, t) in net.NamedParameters())
            if (path.EndsWith("conv1.weight") || path.EndsWith("aux_conv.weight")) Init.XavierUniform(t, new Rng(path.Length));
        var x = Tensor.Randn(new Rng(6), [2, 1, 16, 16]);
        var c = Tensor.FromArray([0.3f, -1f], 2);
        using var _ = GradMode.NoGrad();
        var a = net.Forward(x, c, null, null, new Rng(1));
        var b = net.Forward(x, c, null, null, new Rng(1));
        var d = net.Forward(x, c, null, null, new Rng(2));
        Assert.Equal(a.Data, b.Data);
        Assert.NotEqual(a.Data, d.Data);
        Assert.Throws<ArgumentNullException>(() => net.Forward(x, c, null, null, null));
        net.Eval();
        Assert.Equal(net.Forward(x, c, null, null, new Rng(1)).Data, net.Forward(x, c, null, null, new Rng(2)).Data);
    }

    [Fact]
    public void PositionalFrequenciesUseTheEndpointForm()
    {
        var f = PositionalEmbedding.Frequencies(128);
        Assert.Equal(64, f.Length);
        Assert.Equal(1.0, f[0]);
        Assert.Equal(1e-4, f[63], 12);
        Assert.Equal(Math.Pow(10000, -1.0 / 63), f[1], 12);
        var e = new PositionalEmbedding(8).Forward(Tensor.FromArray([0.5f], 1));
        var g = PositionalEmbedding.Frequencies(8);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(Math.Sin(0.5 * g[i]), e.Data[i], 5);      // sine half first
            Assert.Equal(Math.Cos(0.5 * g[i]), e.Data[4 + i], 5);
        }
    }
}
