using System.Formats.Tar;
using System.IO.Compression;
using Cedm.Imaging.Png;
using Cedm.IO;

namespace Cedm.Fuzz;

/// <summary>
/// One parser under fuzzing: valid seed files and the command that reads a file in its place. <see cref="Place"/>
/// puts the mutated bytes where the command expects them (a name, a folder, beside other valid files) and returns
/// the path the error line must name and the arguments.
/// </summary>
public sealed record Target(string Name, IReadOnlyList<(string Name, byte[] Data)> Seeds, Func<string, byte[], string, Placed> Place);

/// <summary>Where a case's file went, the path its error must name, the command line and any environment it needs.</summary>
public sealed record Placed(string MustName, string[] Args, IReadOnlyDictionary<string, string>? Env = null);

/// <summary>The valid inputs every target starts from, made once with cedm itself (a tiny run, a PCA model, a cluster folder).</summary>
public sealed class Workspace
{
    public Workspace(string dir)
    {
        Dir = dir;
        Directory.CreateDirectory(dir);
        const int n = 12, side = 8;
        var images = new byte[n * side * side];
        for (int i = 0; i < images.Length; i++) images[i] = (byte)((i / (side * side) % 3 == 0 ? i * 37 : i * 11 + i / side * 5) & 0xFF);
        Images = Path.Combine(dir, "images.npy");
        Labels = Path.Combine(dir, "labels.npy");
        Npy.Write(Images, images, n, side, side, 1);
        Npy.Write(Labels, Enumerable.Range(0, n).Select(i => (long)(i % 3)).ToArray(), n);
        Features = Path.Combine(dir, "feats.npy");
        Npy.Write(Features, Enumerable.Range(0, 60).Select(i => (float)Math.Sin(i * 0.7) * (1 + i % 3)).ToArray(), 20, 3);
        FeatureLabels = Path.Combine(dir, "feat-labels.npy");
        Npy.Write(FeatureLabels, Enumerable.Range(0, 20).Select(i => (long)(i % 2)).ToArray(), 20);
        Run = Path.Combine(dir, "run");
        Cli("train", $"npy:{Images},{Labels}", "--out", Run, "--kimg", "0.004", "--batch", "4", "--cond", "labels");
        Cli("features", $"npy:{Images}", "--extractor", "pca:4", "--out", Path.Combine(dir, "pf.npy"));
        Pca = Path.Combine(dir, "pf.pca.safetensors");
        Clusters = Path.Combine(dir, "clusters");
        Cli("cluster", Features, "--k", "2", "--out", Clusters);
    }

    public string Dir { get; }
    public string Images { get; }
    public string Labels { get; }
    public string Features { get; }
    public string FeatureLabels { get; }
    public string Run { get; }
    public string Pca { get; }
    public string Clusters { get; }

    private static void Cli(params string[] args)
    {
        var err = new StringWriter();
        int code = Cedm.Cli.Program.Run(args, TextWriter.Null, err);
        if (code != 0) throw new InvalidOperationException($"fuzz set-up `cedm {string.Join(' ', args)}` failed: {err}");
    }

    /// <summary>Copies a folder (no links) so a case can replace one file in it.</summary>
    public static void CopyFolder(string from, string to)
    {
        foreach (var d in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, d)));
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            if (!Path.GetFileName(f).StartsWith(".cedm.lock", StringComparison.Ordinal)) File.Copy(f, Path.Combine(to, Path.GetRelativePath(from, f)));
    }

    /// <summary>Every parser cedm has, each behind the command that uses it.</summary>
    private static readonly string[] RunJsonFiles = ["config.json", "label_map.json", "checkpoint.json"];

    public IReadOnlyList<Target> Targets()
    {
        var ckpt = Cedm.Diffusion.Training.Checkpoint.ReadPointer(Run).Path;
        var f64 = Npy.Read(Features).ToFloat32().Select(v => (double)v).ToArray();
        var f64Bytes = new MemoryStream();
        Npy.Write(f64Bytes, f64, 20, 3);
        return
        [
            new("npy-features", [("f32", File.ReadAllBytes(Features)), ("f64", f64Bytes.ToArray())],
                (c, data, _) => Write(Path.Combine(c, "f.npy"), data, p => new Placed(p, ["cluster", p, "--k", "2", "--out", Path.Combine(c, "o")]))),
            new("npy-images", [("u8", File.ReadAllBytes(Images)), ("labels", File.ReadAllBytes(Labels))],
                (c, data, seed) => seed == "labels"
                    ? Write(Path.Combine(c, "l.npy"), data, p => new Placed(p, ["data", "info", $"npy:{Images},{p}"]))
                    : Write(Path.Combine(c, "i.npy"), data, p => new Placed(p, ["data", "info", $"npy:{p}"]))),
            new("safetensors-pca", [("pca", File.ReadAllBytes(Pca))],
                (c, data, _) => Write(Path.Combine(c, "m.safetensors"), data, p => new Placed(p, ["features", $"npy:{Images}", "--extractor", $"pca:{p}", "--out", Path.Combine(c, "o.npy")]))),
            new("safetensors-checkpoint", [("ckpt", File.ReadAllBytes(ckpt))],
                (c, data, _) => Write(Path.Combine(c, "c.safetensors"), data, p => new Placed(p, ["sample", Run, "--checkpoint", p, "--seeds", "0-0", "--steps", "2", "--out", Path.Combine(c, "s.npy")]))),
            new("png", PngSeeds(), (c, data, _) =>
                Write(Path.Combine(c, "img", "x.png"), data, p => new Placed(p, ["data", "info", $"folder:{Path.GetDirectoryName(p)}"]))),
            new("jpeg-bmp-gif-tga", ImageSeeds(), (c, data, seed) =>
                Write(Path.Combine(c, "img", "x" + Path.GetExtension(seed)), data, p => new Placed(p, ["data", "info", $"folder:{Path.GetDirectoryName(p)}"]))),
            new("npz-statistics", NpzSeeds(), (c, data, _) =>
                Write(Path.Combine(c, "s.npz"), data, p => new Placed(p, ["fd", p, p]))),
            // "-raw" seeds are mutated before compression, so the damage reaches the tar and IDX parsers past gzip's CRC.
            new("cifar-tar-gz", [("tgz", CifarTarGz()), ("tar-raw", Gunzip(CifarTarGz()))],
                (c, data, seed) => Write(Path.Combine(c, "cifar-10-binary.tar.gz"), seed.EndsWith("-raw", StringComparison.Ordinal) ? Gzip(data) : data,
                    p => new Placed(p, ["data", "info", $"cifar10:{p}"]))),
            new("idx-gz", [("images", IdxGz(true)), ("labels", IdxGz(false)), ("images-raw", Gunzip(IdxGz(true))), ("labels-raw", Gunzip(IdxGz(false)))], (c, data, seed) =>
            {
                if (seed.EndsWith("-raw", StringComparison.Ordinal)) { data = Gzip(data); seed = seed[..^4]; }
                File.WriteAllBytes(Path.Combine(c, "train-images-idx3-ubyte.gz"), IdxGz(true));
                File.WriteAllBytes(Path.Combine(c, "train-labels-idx1-ubyte.gz"), IdxGz(false));
                string name = seed == "images" ? "train-images-idx3-ubyte.gz" : "train-labels-idx1-ubyte.gz";
                return Write(Path.Combine(c, name), data, p => new Placed(p, ["data", "info", "fashion-mnist"], new Dictionary<string, string> { ["CEDM_FASHION_MNIST_DIR"] = c }));
            }),
            new("json-run", RunJsonFiles.Select(f => (f, File.ReadAllBytes(Path.Combine(Run, f)))).ToList(), (c, data, seed) =>
            {
                string run = Path.Combine(c, "run");
                CopyFolder(Run, run);
                return Write(Path.Combine(run, seed), data, p => new Placed(p, ["sample", run, "--seeds", "0-0", "--steps", "2", "--out", Path.Combine(c, "s.npy")]));
            }),
            new("json-clusters", [("clusters.json", File.ReadAllBytes(Path.Combine(Clusters, "clusters.json")))], (c, data, _) =>
            {
                string dir = Path.Combine(c, "clusters");
                CopyFolder(Clusters, dir);
                return Write(Path.Combine(dir, "clusters.json"), data, p => new Placed(p, ["score", dir, FeatureLabels]));
            }),
        ];
    }

    private static Placed Write(string path, byte[] data, Func<string, Placed> then)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, data);
        return then(path);
    }

    private static List<(string, byte[])> PngSeeds()
    {
        var seeds = new List<(string, byte[])>();
        foreach (int channels in new[] { 1, 2, 3, 4 })
            seeds.Add(($"encoded-c{channels}", PngEncoder.Encode(Enumerable.Range(0, 8 * 8 * channels).Select(i => (byte)(i * 7)).ToArray(), 8, 8, channels)));
        // The PIL-made variants of the decoder's fixtures (palette, 16-bit, interlaced, ...), when run from the repository.
        string fixtures = FixtureFolder("png");
        if (Directory.Exists(fixtures))
            seeds.AddRange(Directory.GetFiles(fixtures, "*.png").Order(StringComparer.Ordinal).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))));
        return seeds;
    }

    /// <summary>A folder of the test fixtures, found from the harness's build folder or the working folder upwards.</summary>
    private static string FixtureFolder(string name)
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Cedm.slnx"))) return Path.Combine(dir.FullName, "tests", "Cedm.Tests", "Fixtures", name);
        return Path.Combine(AppContext.BaseDirectory, "fixtures-not-found", name);
    }

    /// <summary>The PIL-made JPEG, BMP, GIF and TGA fixtures of the folder reader (names keep their extension).</summary>
    private static List<(string, byte[])> ImageSeeds()
    {
        string dir = FixtureFolder("images");
        return !Directory.Exists(dir) ? [] : Directory.GetFiles(dir).Where(f => !f.EndsWith(".npy", StringComparison.Ordinal) && !Path.GetFileName(f).StartsWith("broken", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToList();
    }

    /// <summary>numpy-written statistics (.npz, stored and deflated) of the reference-statistics reader.</summary>
    private static List<(string, byte[])> NpzSeeds()
    {
        string dir = FixtureFolder("npz");
        return !Directory.Exists(dir) ? [] : Directory.GetFiles(dir, "*.npz").Order(StringComparer.Ordinal).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToList();
    }

    private static byte[] CifarTarGz()
    {
        const int record = 3073;
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gz, TarEntryFormat.Pax))
        {
            foreach (var name in Cedm.Data.Cifar10.BatchFiles(Cedm.Data.DataSplit.Train).Concat(Cedm.Data.Cifar10.BatchFiles(Cedm.Data.DataSplit.Test)))
            {
                var bytes = new byte[2 * record];
                for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)(i * 13);
                bytes[0] = 3; bytes[record] = 7;
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "cifar-10-batches-bin/" + name) { DataStream = new MemoryStream(bytes) });
            }
        }
        return ms.ToArray();
    }

    private static byte[] Gzip(byte[] raw)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(raw);
        return ms.ToArray();
    }

    private static byte[] Gunzip(byte[] packed)
    {
        using var gz = new GZipStream(new MemoryStream(packed), CompressionMode.Decompress);
        var ms = new MemoryStream();
        gz.CopyTo(ms);
        return ms.ToArray();
    }

    private static byte[] IdxGz(bool images)
    {
        const int n = 4;
        var raw = new MemoryStream();
        raw.Write(images ? [0, 0, 8, 3] : [0, 0, 8, 1]);
        foreach (int dim in images ? new[] { n, 28, 28 } : [n]) raw.Write([(byte)(dim >> 24), (byte)(dim >> 16), (byte)(dim >> 8), (byte)dim]);
        for (int i = 0; i < (images ? n * 28 * 28 : n); i++) raw.WriteByte((byte)(images ? i * 3 : i % 10));
        return Gzip(raw.ToArray());
    }
}
