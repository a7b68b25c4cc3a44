using Cedm.Clustering;
using Cedm.Diffusion.Training;
using Cedm.IO;
using Cedm.Tests.Diffusion;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Cli;

/// <summary>
/// Outputs a tampered or interrupted folder must not fool (issue 18 items 3, 5, 8): planted symbolic links are
/// replaced, not written through; a partial output set is neither taken as a result nor blocks a re-run; a damaged
/// checkpoint exits 2 naming its file.
/// </summary>
public sealed class PartialOutputTests : CliTest
{
    private string Features()
    {
        string feats = Path.Combine(Dir, "f.npy");
        Npy.Write(feats, Enumerable.Range(0, 40).Select(i => (float)(i % 7) + (i % 2) * 10).ToArray(), 20, 2);
        return feats;
    }

    [Fact]
    public void APlantedLinkIsReplacedAndItsTargetIsUntouched()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 4), run = Path.Combine(Dir, "run");
        string victim = Path.Combine(Dir, "victim.txt");
        File.WriteAllText(victim, "precious");
        Directory.CreateDirectory(run);
        File.CreateSymbolicLink(Path.Combine(run, TrainingRun.LogFile), victim);
        File.CreateSymbolicLink(Path.Combine(run, FolderLock.FileName), victim);
        File.CreateSymbolicLink(Path.Combine(run, FolderLock.InfoFileName), victim);
        var (code, _, err) = Run("train", source, "--out", run, "--kimg", "0.004", "--batch", "4");
        code.Should().Be(0, err);
        File.ReadAllText(victim).Should().Be("precious");
        foreach (var name in new[] { TrainingRun.LogFile, FolderLock.FileName, FolderLock.InfoFileName })
            RegularFile.IsLink(Path.Combine(run, name)).Should().BeFalse(name);
        TrainingRun.ReadLog(run).Should().NotBeEmpty("the log went to a regular file in the run folder");

        // On resume the log is rewritten (truncated to the checkpoint) and appended to: neither through a link.
        File.Delete(Path.Combine(run, TrainingRun.LogFile));
        File.CreateSymbolicLink(Path.Combine(run, TrainingRun.LogFile), victim);
        (code, _, err) = Run("train", source, "--out", run, "--resume", "--kimg", "0.008");
        code.Should().Be(0, err);
        File.ReadAllText(victim).Should().Be("precious");
        RegularFile.IsLink(Path.Combine(run, TrainingRun.LogFile)).Should().BeFalse();
    }

    [Fact]
    public void APartialClusterFolderIsRefusedOnReadAndReplacedWithoutForce()
    {
        string feats = Features(), dir = Path.Combine(Dir, "c");
        Run("cluster", feats, "--k", "2", "--out", dir).Code.Should().Be(0);
        var complete = ClusterAssignment.Load(dir);

        // An interrupted write: the first files exist, clusters.json and options.json do not.
        File.Delete(Path.Combine(dir, ClusterAssignment.JsonFile));
        File.Delete(Path.Combine(dir, ClusteringRecord.FileName));
        var load = () => ClusterAssignment.Load(dir);
        load.Should().Throw<InvalidDataException>().WithMessage("*incomplete*interrupted*");
        string labels = Path.Combine(Dir, "labels.npy");
        Npy.Write(labels, Enumerable.Range(0, 20).Select(i => (long)(i % 2)).ToArray(), 20);
        var (code, _, err) = Run("score", dir, labels);
        code.Should().Be(2, "score must not accept a partial cluster folder");
        err.Should().Contain("incomplete");

        (code, _, err) = Run("cluster", feats, "--k", "2", "--out", dir);
        code.Should().Be(0, $"leftovers of an interrupted run are replaced without --force: {err}");
        ClusterAssignment.Load(dir).Ids.Should().Equal(complete.Ids);

        (code, _, err) = Run("cluster", feats, "--k", "2", "--out", dir);
        code.Should().Be(2, "a complete folder still needs --force");
        err.Should().Contain("--force");
    }

    [Fact]
    public void AFolderWithSomeoneElsesIdsIsStillReadAndNotOverwritten()
    {
        string dir = Path.Combine(Dir, "mine");
        Directory.CreateDirectory(dir);
        Npy.Write(Path.Combine(dir, ClusterAssignment.IdsFile), new long[] { 0, 1, 1, 0 }, 4);
        ClusterAssignment.Load(dir).K.Should().Be(2, "ids.npy alone is a hand-made cluster folder");
        var (code, _, _) = Run("cluster", Features(), "--k", "2", "--out", dir);
        code.Should().Be(2, "without our signature file the ids are someone else's");
    }

    [Fact]
    public void APartialSampleSetIsReplacedWithoutForce()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 4), run = Path.Combine(Dir, "run");
        Run("train", source, "--out", run, "--kimg", "0.004", "--batch", "4").Code.Should().Be(0);
        string samples = Path.Combine(Dir, "s.npy");
        string[] args = ["sample", run, "--out", samples, "--seeds", "0-1", "--steps", "2"];
        Run(args).Code.Should().Be(0);
        var first = File.ReadAllBytes(samples);
        File.Delete(Path.Combine(Dir, "s.json"));
        var (code, _, err) = Run(args);
        code.Should().Be(0, $"a samples .npy without its .json is the leftover of an interrupted write: {err}");
        File.ReadAllBytes(samples).Should().Equal(first);
        Run(args).Code.Should().Be(2, "a complete set needs --force");
    }

    [Fact]
    public void DamagedCheckpointsExitTwoNamingTheFile()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 4), run = Path.Combine(Dir, "run");
        Run("train", source, "--out", run, "--kimg", "0.004", "--batch", "4").Code.Should().Be(0);
        string ckpt = Checkpoint.ReadPointer(run).Path;
        var file = Safetensors.Read(ckpt);
        var tensors = file.Tensors.Select(kv => (kv.Key, kv.Value.Shape.ToArray(), kv.Value.Data.ToArray())).ToList();
        string samples = Path.Combine(Dir, "s.npy");

        // A NaN among the EMA weights: sampling would give black images with exit 0.
        var nan = tensors.Select(t => t.Key.StartsWith("ema.", StringComparison.Ordinal) && t.Item3.Length > 3 ? (t.Key, t.Item2, t.Item3.Select((v, i) => i == 3 ? float.NaN : v).ToArray()) : t).ToList();
        Safetensors.Write(ckpt, nan, file.Metadata);
        var (code, _, err) = Run("sample", run, "--out", samples, "--seeds", "0-1", "--steps", "2");
        code.Should().Be(2);
        err.Should().Contain(ckpt).And.Contain("non-finite");
        (code, _, err) = Run("train", source, "--out", run, "--resume", "--kimg", "0.008");
        code.Should().Be(2);
        err.Should().Contain(ckpt).And.Contain("non-finite");

        // A tensor of the wrong shape and a missing one.
        var wrong = tensors.Where(t => t.Key != tensors[^1].Key)
            .Select(t => t.Key.StartsWith("ema.", StringComparison.Ordinal) && t.Item2.Length == 1 ? (t.Key, new[] { t.Item2[0] + 1 }, new float[t.Item2[0] + 1]) : t).ToList();
        Safetensors.Write(ckpt, wrong, file.Metadata);
        (code, _, err) = Run("sample", run, "--out", samples, "--seeds", "0-1", "--steps", "2");
        code.Should().Be(2);
        err.Should().StartWith("error: ").And.Contain(ckpt).And.Contain("shape");
        (code, _, err) = Run("train", source, "--out", run, "--resume", "--kimg", "0.008");
        code.Should().Be(2);
        err.Should().Contain(ckpt);

        // Malformed metadata and a malformed pointer.
        Safetensors.Write(ckpt, tensors, new Dictionary<string, string> { ["cedm"] = "{\"format\":1,\"rng\":[\"zz\"]}" });
        (code, _, err) = Run("train", source, "--out", run, "--resume", "--kimg", "0.008");
        code.Should().Be(2);
        err.Should().Contain(ckpt).And.Contain("metadata");
        string pointer = Path.Combine(run, Checkpoint.PointerFile);
        foreach (var text in new[] { "{\"file\": 7}", "{\"file\": \"../../etc/passwd\"}", "[1,2]", "{" })
        {
            File.WriteAllText(pointer, text);
            (code, _, err) = Run("sample", run, "--out", samples, "--seeds", "0-1", "--steps", "2");
            code.Should().Be(2, text);
            err.Should().Contain(pointer, text);
        }
    }

    [Fact]
    public void FeaturesRefuseToOverwriteTheirOwnInputEvenWithForce()
    {
        string images = Path.Combine(Dir, "imgs.npy");
        Npy.Write(images, new byte[4 * 8 * 8], 4, 8, 8, 1);
        var before = File.ReadAllBytes(images);
        var (code, _, err) = Run("features", "npy:" + images, "--extractor", "pixels", "--out", images, "--force");
        code.Should().Be(2);
        err.Should().Contain(images).And.Contain("input");
        File.ReadAllBytes(images).Should().Equal(before);
    }
}
