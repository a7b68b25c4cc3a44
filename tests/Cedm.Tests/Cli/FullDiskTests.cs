using System.Diagnostics;
using Cedm.Clustering;
using Cedm.IO;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Cli;

/// <summary>A fact that needs a small tmpfs it may mount (root on Linux); skipped with the reason elsewhere.</summary>
public sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute()
    {
        if (SmallDisk.Unavailable() is { } why) Skip = $"no small file system to fill ({why}); run the tests as root on Linux to include this check";
    }
}

/// <summary>A 1 MiB tmpfs mounted for one test.</summary>
public sealed class SmallDisk : IDisposable
{
    private static readonly Lazy<string?> Why = new(() =>
    {
        if (!OperatingSystem.IsLinux()) return "not Linux";
        try { using var probe = new SmallDisk(Directory.CreateTempSubdirectory("cedm-tmpfs-probe-").FullName); return null; }
        catch (InvalidOperationException e) { return e.Message; }
    });

    public static string? Unavailable() => Why.Value;

    public SmallDisk(string dir)
    {
        Dir = dir;
        if (Mount("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir) is { } error) throw new InvalidOperationException(error);
    }

    public string Dir { get; }

    private static string? Mount(params string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo(args[0]) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in args.Skip(1)) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0 ? null : $"{args[0]} failed: {err.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception e) { return $"{args[0]}: {e.Message}"; }
    }

    public void Dispose()
    {
        Mount("umount", Dir);
        try { Directory.Delete(Dir); } catch (IOException) { }
    }
}

/// <summary>A full disk (issue 18): exit 2 naming the output, no temp files, and a partial set never taken as complete.</summary>
public sealed class FullDiskTests : CliTest
{
    [TmpfsFact]
    public void AFullDiskExitsTwoNamingTheOutputAndLeavesNoCompleteLookingSet()
    {
        string feats = Path.Combine(Dir, "f.npy");
        var rng = new Cedm.Tensors.Rng(0);
        Npy.Write(feats, Enumerable.Range(0, 400_000).Select(_ => (float)rng.NextNormal()).ToArray(), 200_000, 2);   // ids.npy alone is 1.6 MB
        using var disk = new SmallDisk(Directory.CreateDirectory(Path.Combine(Dir, "disk")).FullName);
        string outDir = Path.Combine(disk.Dir, "c");
        var (code, _, err) = Run("cluster", feats, "--k", "3", "--out", outDir);
        code.Should().Be(2);
        err.Should().StartWith($"error: {outDir}").And.Contain("cannot be written").And.NotContain(AtomicFile.TempMarker);
        Directory.GetFiles(outDir).Should().NotContain(f => f.Contains(AtomicFile.TempMarker, StringComparison.Ordinal), "a failed write removes its temp file");
        File.Exists(Path.Combine(outDir, ClusterAssignment.JsonFile)).Should().BeFalse();
        var load = () => ClusterAssignment.Load(outDir);
        load.Should().Throw<Exception>("what a full disk left is not a cluster result");
    }
}
