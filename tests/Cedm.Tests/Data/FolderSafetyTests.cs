using System.Diagnostics;
using Cedm.Imaging.Png;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Data;

/// <summary>
/// A folder source reads regular image files only (issue 18 item 9): a FIFO named like an image must not block, a
/// link to an endless device must not be read, a link loop must not repeat images, and several broken files give
/// one error naming the first.
/// </summary>
public sealed class FolderSafetyTests : CliTest
{
    private static byte[] Png(byte v) => PngEncoder.Encode(Enumerable.Repeat(v, 16).ToArray(), 4, 4, 1);

    [Fact]
    public void AFifoNamedLikeAnImageIsRefusedWithoutBlocking()
    {
        if (!OperatingSystem.IsLinux()) return;
        string dir = Path.Combine(Dir, "imgs");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "a.png"), Png(1));
        string fifo = Path.Combine(dir, "b.png");
        using (var p = Process.Start("mkfifo", fifo)) p.WaitForExit();
        var clock = Stopwatch.StartNew();
        var (code, _, err) = Run("data", "info", "folder:" + dir);
        code.Should().Be(2);
        err.Should().Contain(fifo).And.Contain("not a regular file");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void ALinkToADeviceIsRefusedAndALinkLoopDoesNotRepeatImages()
    {
        if (!OperatingSystem.IsLinux()) return;
        string dir = Path.Combine(Dir, "labelled");
        Directory.CreateDirectory(Path.Combine(dir, "cat"));
        Directory.CreateDirectory(Path.Combine(dir, "dog"));
        File.WriteAllBytes(Path.Combine(dir, "cat", "a.png"), Png(1));
        File.WriteAllBytes(Path.Combine(dir, "dog", "b.png"), Png(2));
        Directory.CreateSymbolicLink(Path.Combine(dir, "cat", "loop"), Path.Combine(dir, "cat"));
        File.CreateSymbolicLink(Path.Combine(dir, "dog", "c.png"), Path.Combine(dir, "cat", "a.png"));
        var ds = Cedm.Data.DataSource.Load("folder:" + dir);
        ds.Count.Should().Be(3, "a.png, b.png and the linked file c.png; the linked folder 'loop' is not followed");
        ds.Labels.Should().Equal(0, 1, 1);

        File.CreateSymbolicLink(Path.Combine(dir, "dog", "z.png"), "/dev/zero");
        var (code, _, err) = Run("data", "info", "folder:" + dir);
        code.Should().Be(2);
        err.Should().Contain(Path.Combine(dir, "dog", "z.png")).And.Contain("not a regular file");
    }

    [Fact]
    public void SeveralBrokenFilesGiveOneErrorNamingTheFirst()
    {
        string dir = Path.Combine(Dir, "broken");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "a.png"), Png(1));
        foreach (var name in new[] { "b.png", "c.png", "d.png" }) File.WriteAllBytes(Path.Combine(dir, name), [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2]);
        var (code, _, err) = Run("data", "info", "folder:" + dir);
        code.Should().Be(2);
        err.TrimEnd().Split('\n').Should().ContainSingle();
        err.Should().Contain(Path.Combine(dir, "b.png")).And.Contain("2 more");
    }
}
