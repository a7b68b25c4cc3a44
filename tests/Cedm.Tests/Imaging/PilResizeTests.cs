using Cedm.Imaging;
using Cedm.Tensors;
using Cedm.Tests.TestUtilities;

namespace Cedm.Tests.Imaging;

/// <summary>PilResize reproduces Pillow's uint8 Image.resize bit for bit (fixture made with PIL, tools/fixtures/make_pool_resize_fixtures.py).</summary>
public class PilResizeTests
{
    [Theory]
    [InlineData("up32", 32, 32)]
    [InlineData("down9x7", 9, 7)]
    public void MatchesPillowExactly(string key, int h, int w)
    {
        var f = FixtureFile.Load("ops/resize_pil_bicubic_uint8.bin");
        byte[] img = f["image"].Data.Select(v => (byte)v).ToArray();
        byte[] ours = PilResize.Resize(img, 20, 20, 3, h, w, ResizeFilter.Bicubic);
        Assert.Equal(f[key].Data.Select(v => (byte)v).ToArray(), ours);
    }

    [Fact]
    public void SameSizeIsACopyAndConstantsStay()
    {
        byte[] img = [.. Enumerable.Range(0, 5 * 4 * 3).Select(i => (byte)(i * 7))];
        Assert.Equal(img, PilResize.Resize(img, 5, 4, 3, 5, 4));
        byte[] flat = Enumerable.Repeat((byte)200, 6 * 6).ToArray();
        Assert.All(PilResize.Resize(flat, 6, 6, 1, 13, 3), v => Assert.Equal(200, v));
    }
}
