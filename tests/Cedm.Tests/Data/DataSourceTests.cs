using Cedm.Data;
using FluentAssertions;

namespace Cedm.Tests.Data;

public class DataSourceTests
{
    [Theory]
    [InlineData("fashion-mnist", DataSplit.Train)]
    [InlineData("fashion-mnist:train", DataSplit.Train)]
    [InlineData("fashion-mnist:test", DataSplit.Test)]
    public void ParsesFashionMnist(string text, DataSplit split)
        => DataSource.Parse(text).Should().Be(new FashionMnistSource(split));

    [Fact]
    public void ParsesCifarPathAndSplit()
    {
        DataSource.Parse("cifar10:/data/cifar-10-binary.tar.gz").Should().Be(new Cifar10Source("/data/cifar-10-binary.tar.gz", DataSplit.Train));
        DataSource.Parse("cifar10:/data/c:x/cifar:test").Should().Be(new Cifar10Source("/data/c:x/cifar", DataSplit.Test));
    }

    [Fact]
    public void ParsesFolderAndNpy()
    {
        DataSource.Parse("folder:/imgs").Should().Be(new FolderSource("/imgs"));
        DataSource.Parse("npy:a.npy").Should().Be(new NpyFilesSource("a.npy", null));
        DataSource.Parse("npy:a.npy,b.npy").Should().Be(new NpyFilesSource("a.npy", "b.npy"));
    }

    [Theory]
    [InlineData("emnist", "unknown kind")]
    [InlineData("fashion-mnist:val", "unknown split 'val'")]
    [InlineData("cifar10:", "missing path")]
    [InlineData("folder:", "missing path")]
    [InlineData("npy:a.npy,b.npy,c.npy", "npy:<images.npy>[,<labels.npy>]")]
    [InlineData("images.npy", "did you mean npy:images.npy?")]
    public void BadSourcesSayWhatIsExpected(string text, string message)
    {
        var act = () => DataSource.Parse(text);
        act.Should().Throw<FormatException>().WithMessage($"*{message}*");
    }
}
