using Cedm.Imaging;
using Cedm.Imaging.Png;
using Cedm.Tensors;

namespace Cedm.Data;

/// <summary>
/// A folder of images: PNG, JPEG, BMP, GIF (first frame) or TGA, told apart by their first bytes and decoded by
/// <see cref="ImageFile"/>; other picture extensions (.webp, .tif, ...) are a clear error. Either all images sit directly in the folder (unlabelled), or in immediate
/// sub-folders whose names become the labels (0, 1, ... in ordinal name order; files inside a sub-folder may
/// be nested deeper). Files are read in ordinal path order. Gray images stay 1 channel unless some image has
/// colour, then all become RGB; alpha is dropped. Sizes must agree unless a resolution is given.
/// </summary>
public static class ImageFolder
{
    /// <summary>Extensions of image formats we recognise but do not read, for a clear error.</summary>
    private static readonly HashSet<string> OtherImageExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ".webp", ".tif", ".tiff", ".ppm", ".pgm", ".pnm", ".heic", ".avif", ".jxl",
    };

    /// <summary>Largest image file read (a decoded 16k x 16k RGBA PNG is 1 GiB; files are far smaller).</summary>
    public const long MaxFileBytes = 256L << 20;

    public static ImageDataset Load(string directory, TransformOptions? transform = null)
    {
        transform ??= TransformOptions.None;
        transform.Validate();
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"folder:{directory}: no such folder");

        var (files, labels, labelNames) = FindImages(directory);
        foreach (string f in files)
        {
            var (regular, bytes) = IO.FileKind.Stat(f);
            if (!regular) throw new InvalidDataException($"{f}: not a regular file (a FIFO, device or dangling link); folder sources read image files only");
            if (bytes > MaxFileBytes) throw new InvalidDataException($"{f}: {bytes} bytes, more than the {MaxFileBytes >> 20} MiB an image file may have here");
        }
        var images = new PngImage[files.Count];
        var errors = new Exception?[files.Count];
        Parallel.For(0, files.Count, EnginePolicy.Current.ParallelOptions, i =>
        {
            try { images[i] = ImageFile.Decode(files[i]); }
            catch (Exception e) when (e is InvalidDataException or NotSupportedException) { errors[i] = e; }
        });
        // Several bad files: the first in folder order, the same on every run, with a count of the others.
        int bad = Array.FindIndex(errors, e => e != null);
        if (bad >= 0)
        {
            int more = errors.Count(e => e != null) - 1;
            throw more == 0 ? errors[bad]! : new InvalidDataException($"{errors[bad]!.Message} (and {more} more unreadable file(s) in folder:{directory})", errors[bad]);
        }

        int channels = images.Any(im => im.Channels >= 3) ? 3 : 1;
        if (transform.Resolution is null)
        {
            var odd = images.Select((im, i) => (im, i)).FirstOrDefault(t => t.im.Width != images[0].Width || t.im.Height != images[0].Height);
            if (odd.im is not null)
                throw new SettingException(nameof(transform.Resolution), $"folder:{directory}: images differ in size ({files[0]} is {images[0].Width}x{images[0].Height}, {files[odd.i]} is {odd.im.Width}x{odd.im.Height}); give a resolution to resize them to one size");
        }

        var (outH, outW) = transform.OutputSize(images[0].Height, images[0].Width);
        int size = outH * outW * channels;
        var pixels = new byte[(long)images.Length * size];
        Parallel.For(0, images.Length, EnginePolicy.Current.ParallelOptions, i =>
        {
            var im = images[i];
            byte[] converted = ConvertChannels(im, channels);
            byte[] result = ImageTransforms.Apply(converted, im.Height, im.Width, channels, transform);
            result.CopyTo(pixels, (long)i * size);
        });
        return new ImageDataset($"folder:{directory}", pixels, images.Length, outH, outW, channels, labels, labelNames);
    }

    private static (List<string> Files, long[]? Labels, IReadOnlyList<string>? LabelNames) FindImages(string directory)
    {
        var unsupported = new List<string>();
        List<string> Images(IEnumerable<string> paths)
        {
            var pngs = new List<string>();
            foreach (string p in paths.Order(StringComparer.Ordinal))
            {
                string ext = Path.GetExtension(p);
                if (ImageFile.Extensions.Contains(ext)) pngs.Add(p);
                else if (OtherImageExtensions.Contains(ext)) unsupported.Add(p);
            }
            return pngs;
        }

        var top = Images(Directory.EnumerateFiles(directory));
        var groups = Directory.EnumerateDirectories(directory).Where(d => !IsLink(d)).Order(StringComparer.Ordinal)
            .Select(d => (Name: Path.GetFileName(d), Files: Images(FilesBelow(d))))
            .ToList();

        if (unsupported.Count > 0)
        {
            string kinds = string.Join(", ", unsupported.Select(p => Path.GetExtension(p).ToLowerInvariant()).Distinct());
            throw new NotSupportedException(
                $"folder:{directory}: found {unsupported.Count} image file(s) in a format cedm does not read ({kinds}; e.g. {unsupported[0]}); " +
                "cedm reads PNG, JPEG, BMP, GIF and TGA: convert them first, e.g. with ImageMagick 'mogrify -format png *.webp', or use an npy: source");
        }
        groups.RemoveAll(g => g.Files.Count == 0);
        if (top.Count > 0 && groups.Count > 0)
            throw new InvalidDataException(
                $"folder:{directory}: image files both directly in the folder (e.g. {top[0]}) and in sub-folders ({groups[0].Name}/); put all of them in sub-folders (one per label) or all directly in the folder");
        if (top.Count > 0) return (top, null, null);
        if (groups.Count == 0) throw new InvalidDataException($"folder:{directory}: no image files (PNG, JPEG, BMP, GIF, TGA) found (looked in the folder and its sub-folders)");

        var files = new List<string>();
        var labels = new List<long>();
        for (int g = 0; g < groups.Count; g++)
        {
            files.AddRange(groups[g].Files);
            labels.AddRange(Enumerable.Repeat((long)g, groups[g].Files.Count));
        }
        return (files, [.. labels], groups.Select(g => g.Name).ToArray());
    }

    private static bool IsLink(string directory) => new DirectoryInfo(directory).LinkTarget is not null;

    /// <summary>
    /// Every file below <paramref name="directory"/>, not descending into linked folders: a link loop would otherwise
    /// list one image dozens of times (linked files are read; linked folders are skipped, docs/data.md).
    /// </summary>
    private static IEnumerable<string> FilesBelow(string directory)
    {
        foreach (string f in Directory.EnumerateFiles(directory)) yield return f;
        foreach (string d in Directory.EnumerateDirectories(directory))
            if (!IsLink(d))
                foreach (string f in FilesBelow(d)) yield return f;
    }

    /// <summary>To 1 (gray) or 3 (RGB) channels: alpha is dropped, gray is repeated into RGB when needed.</summary>
    private static byte[] ConvertChannels(PngImage im, int channels)
    {
        if (im.Channels == channels) return im.Pixels;
        int n = im.Width * im.Height;
        var result = new byte[n * channels];
        for (int p = 0; p < n; p++)
            for (int c = 0; c < channels; c++)
                // Gray sources (1 or 2 channels) give channel 0 to every output channel; colour sources keep R, G, B.
                result[p * channels + c] = im.Pixels[p * im.Channels + (im.Channels >= 3 ? c : 0)];
        return result;
    }
}
