using Cedm.Diffusion.Training;
using Cedm.IO;
using Cedm.Tests.Diffusion;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Cli;

/// <summary>One writer per output folder, and what a killed writer left half-written is removed by the next (issue 18 items 4 and 6).</summary>
public sealed class FolderLockTests : CliTest
{
    [Fact]
    public void ASecondHolderIsRefusedNamingTheFirstAndALeftoverLockFileDoesNotBlock()
    {
        string folder = Path.Combine(Dir, "run");
        using (FolderLock.Acquire(folder))
        {
            var second = () => FolderLock.Acquire(folder);
            second.Should().Throw<FolderInUseException>().WithMessage($"*{folder}*pid {Environment.ProcessId}*");
        }
        File.Exists(Path.Combine(folder, FolderLock.FileName)).Should().BeTrue("the file stays, like after a kill -9");
        using (FolderLock.Acquire(folder)) { }
    }

    [Fact]
    public void TrainRunAndClusterRefuseAFolderAnotherWriterHolds()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 4), run = Path.Combine(Dir, "run");
        string feats = Path.Combine(Dir, "f.npy");
        Npy.Write(feats, Enumerable.Range(0, 40).Select(i => (float)(i % 7)).ToArray(), 20, 2);
        using (FolderLock.Acquire(run))
        {
            foreach (var args in new[]
            {
                new[] { "train", source, "--out", run, "--kimg", "0.004", "--batch", "4" },
                new[] { "cluster", feats, "--k", "2", "--out", run },
                new[] { "run", source, "--out", run, "--quick" },
            })
            {
                var (code, _, err) = Run(args);
                code.Should().Be(2, string.Join(' ', args));
                err.Should().StartWith("error: ").And.Contain("in use by another cedm process").And.Contain(run);
            }
        }
        Run("train", source, "--out", run, "--kimg", "0.004", "--batch", "4").Code.Should().Be(0, "the folder is free again");
    }

    [Fact]
    public void AKilledCheckpointWriteLeavesNoTempFileAfterTheNextStart()
    {
        string source = TrainingTestData.WritePatternsSource(Dir, 4), run = Path.Combine(Dir, "run");
        Run("train", source, "--out", run, "--kimg", "0.004", "--batch", "4").Code.Should().Be(0);
        string ckpts = Path.Combine(run, Checkpoint.Folder);
        string orphan = Path.Combine(ckpts, Checkpoint.FileName(8) + AtomicFile.TempMarker + "0123456789ab");
        string notOurs = Path.Combine(ckpts, "notes.tmp-keep");
        File.WriteAllBytes(orphan, new byte[1000]);
        File.WriteAllBytes(notOurs, [1]);
        var (code, _, err) = Run("train", source, "--out", run, "--resume", "--kimg", "0.008");
        code.Should().Be(0, err);
        File.Exists(orphan).Should().BeFalse("a temp file of a killed atomic write is removed under the folder's lock");
        File.Exists(notOurs).Should().BeTrue("only files named like our temp files are removed");
    }
}
