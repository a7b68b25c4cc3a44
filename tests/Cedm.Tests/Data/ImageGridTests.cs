using Cedm.Data;
using FluentAssertions;

namespace Cedm.Tests.Data;

public class ImageGridTests
{
    // Five 2x2 gray images, image i filled with value 10 (i + 1).
    private static ImageDataset Five() =>
        new("five", Enumerable.Range(0, 5).SelectMany(i => Enumerable.Repeat((byte)(10 * (i + 1)), 4)).ToArray(), 5, 2, 2, 1, [1, 0, 1, 0, 2]);

    [Fact]
    public void ComposesRowsWithPaddingAndEmptyCells()
    {
        var grid = ImageGrid.Compose(Five(), columns: 3, new GridOptions { Padding = 1, Background = 255 });
        (grid.Width, grid.Height, grid.Channels).Should().Be((3 * 3 + 1, 2 * 3 + 1, 1));
        byte At(int y, int x) => grid.Pixels[y * grid.Width + x];
        At(0, 0).Should().Be(255);
        At(1, 1).Should().Be(10);
        At(2, 2).Should().Be(10);
        At(1, 4).Should().Be(20);
        At(1, 7).Should().Be(30);
        At(4, 1).Should().Be(40);
        At(4, 4).Should().Be(50);
        At(4, 7).Should().Be(255); // the sixth cell is empty
    }

    [Fact]
    public void ScaleRepeatsPixels()
    {
        var d = new ImageDataset("one", [1, 2, 3, 4], 1, 2, 2, 1);
        var grid = ImageGrid.Compose(d, 1, new GridOptions { Padding = 0, Scale = 2 });
        grid.Pixels.Should().Equal(1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4);
    }

    [Fact]
    public void RowsByLabelGivesOneRowPerLabelInLabelOrder()
    {
        var rows = ImageGrid.RowsByLabel(Five().Labels!, perRow: 5, new Random(1));
        rows.Should().HaveCount(3);
        rows[0].Should().Equal(1, 3);
        rows[1].Should().Equal(0, 2);
        rows[2].Should().Equal(4);
        rows = ImageGrid.RowsByLabel(Five().Labels!, perRow: 1, new Random(1));
        rows.Select(r => r.Count).Should().Equal(1, 1, 1);
    }

    [Fact]
    public void SampleIsWithoutReplacementAndSeeded()
    {
        int[] all = Enumerable.Range(0, 1000).ToArray();
        int[] a = ImageGrid.Sample(all, 64, new Random(3));
        a.Should().OnlyHaveUniqueItems().And.HaveCount(64).And.BeInAscendingOrder();
        ImageGrid.Sample(all, 64, new Random(3)).Should().Equal(a);
        ImageGrid.Sample(all, 5000, new Random(3)).Should().HaveCount(1000);
    }
}
