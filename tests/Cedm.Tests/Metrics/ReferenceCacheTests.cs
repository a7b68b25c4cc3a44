using Cedm.Metrics;
using FluentAssertions;

namespace Cedm.Tests.Metrics;

/// <summary>The eval cache key changes whenever the data behind a source changes, at any depth of a folder.</summary>
public sealed class ReferenceCacheTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cedm-refcache-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Key(string spec) => Fingerprint(spec);

    private static string Fingerprint(string spec) => ReferenceCache.Fingerprint(spec).ToJsonString();

    [Fact]
    public void FolderKeysChangeWhenAFileIsAddedRemovedOrRewrittenInASubFolder()
    {
        string sub = Path.Combine(_dir, "shirts");
        Directory.CreateDirectory(sub);
        File.WriteAllBytes(Path.Combine(sub, "a.png"), [1, 2, 3]);
        File.WriteAllBytes(Path.Combine(sub, "b.png"), [4, 5, 6]);
        var topStamp = Directory.GetLastWriteTimeUtc(_dir);
        string spec = "folder:" + _dir;
        string before = Key(spec);
        Key(spec).Should().Be(before, "nothing changed");

        File.WriteAllBytes(Path.Combine(sub, "c.png"), [7]);
        Directory.SetLastWriteTimeUtc(_dir, topStamp);
        string added = Key(spec);
        added.Should().NotBe(before, "a file added to a sub-folder (the top folder's mtime unchanged)");

        File.Delete(Path.Combine(sub, "c.png"));
        Directory.SetLastWriteTimeUtc(_dir, topStamp);
        Key(spec).Should().Be(before, "the same files again");

        var stamp = File.GetLastWriteTimeUtc(Path.Combine(sub, "a.png"));
        File.WriteAllBytes(Path.Combine(sub, "a.png"), [0, 0, 0]);
        File.SetLastWriteTimeUtc(Path.Combine(sub, "a.png"), stamp.AddSeconds(1));
        Key(spec).Should().NotBe(before, "a rewritten file of the same size but a new mtime");

        File.Delete(Path.Combine(sub, "b.png"));
        Key(spec).Should().NotBe(before, "a removed file");
    }

    [Fact]
    public void FileKeysFollowSizeAndTimeAndOtherSpecsHaveNone()
    {
        string f = Path.Combine(_dir, "x.npy");
        File.WriteAllBytes(f, [1, 2]);
        string before = Key("npy:" + f);
        File.WriteAllBytes(f, [1, 2, 3]);
        Key("npy:" + f).Should().NotBe(before);
        ReferenceCache.Fingerprint("fashion-mnist:test").Should().BeEmpty("a packaged source names no file");
    }
}
