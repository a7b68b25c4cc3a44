using System.Globalization;
using Cedm.Data;
using Cedm.IO;
using Cedm.Tensors;

namespace Cedm.Features;

/// <summary>
/// Principal-component features of pixels (in [0, 1], see <see cref="PixelFeatures"/>): y = (x − mean) Wᵀ, with
/// W the top-D eigenvectors of the float64 pixel covariance (N−1), and, when whitened (default, like
/// scikit-learn's PCA(whiten=True)), each component divided by the square root of its eigenvalue so the fitted
/// data has unit variance per feature. Fitted once on a source (<see cref="Fit"/>) and saved as safetensors
/// (mean, components, eigenvalues, scales) so samples can later be projected with exactly the same map.
/// </summary>
public sealed class PcaFeatures : IFeatureExtractor
{
    public const int DefaultDimension = 64;

    /// <summary>Above this input size the eigenvectors come from randomized subspace iteration instead of a full EVD.</summary>
    public const int FullEigenMaxInput = 1536;

    /// <summary>Eigenvalues below this fraction of the largest are raised to it before whitening (avoids 1/0 on constant pixels).</summary>
    public const double EigenvalueFloor = 1e-10;

    private const int ChunkRows = 4096;

    public PcaFeatures(int height, int width, int channels, float[] mean, float[] components, double[] eigenvalues, bool whiten)
    {
        int din = height * width * channels, d = eigenvalues.Length;
        if (mean.Length != din || components.Length != (long)d * din)
            throw new ArgumentException($"PCA: mean [{mean.Length}] and components [{components.Length}] do not fit {height}x{width}x{channels} input and D = {d}.");
        Height = height; Width = width; Channels = channels;
        // Eigenvalues are kept at float32 precision so a saved and reloaded model projects bit-identically.
        eigenvalues = eigenvalues.Select(l => (double)(float)l).ToArray();
        Mean = mean; Components = components; Eigenvalues = eigenvalues; Whiten = whiten;
        double floor = d == 0 ? 0 : Math.Max(eigenvalues.Max(), 0) * EigenvalueFloor;
        Scales = eigenvalues.Select(l => whiten ? (float)(1 / Math.Sqrt(Math.Max(l, floor))) : 1f).ToArray();
    }

    public string Name => $"pca:{Dimension}";
    public int Dimension => Eigenvalues.Length;
    public int Height { get; }
    public int Width { get; }
    public int Channels { get; }
    public int InputDimension => Height * Width * Channels;
    public bool Whiten { get; }

    /// <summary>Pixel mean [H·W·C] in [0, 1] units.</summary>
    public float[] Mean { get; }

    /// <summary>Principal directions, row-major [D, H·W·C], unit length, by decreasing eigenvalue.</summary>
    public float[] Components { get; }

    /// <summary>Covariance eigenvalues (variances along the components), decreasing, length D.</summary>
    public double[] Eigenvalues { get; }

    /// <summary>Per-component multiplier: 1/sqrt(eigenvalue) when whitened, else 1.</summary>
    public float[] Scales { get; }

    /// <summary>Fits the PCA on <paramref name="images"/> (all of them).</summary>
    public static PcaFeatures Fit(ImageDataset images, int dimension = DefaultDimension, bool whiten = true, int seed = 0,
        IProgress<double>? progress = null)
    {
        int din = images.ImageSize;
        if (dimension < 1 || dimension > din)
            throw new ArgumentException($"pca:{dimension}: D must be between 1 and the pixel count {din}");
        if (images.Count < 2) throw new ArgumentException($"pca: fitting needs at least 2 images; {images.Name} has {images.Count}");
        var stats = new Metrics.FeatureStatistics(din);
        for (int start = 0; start < images.Count; start += ChunkRows)
        {
            int n = Math.Min(ChunkRows, images.Count - start);
            stats.Add(PixelFeatures.ToUnitRange(images.Pixels.AsSpan(start * din, n * din)), n);
            progress?.Report(0.5 * (start + n) / images.Count);
        }
        var cov = stats.Covariance();
        var (values, vectors) = din <= FullEigenMaxInput
            ? TopEigen(cov, din, dimension)
            : RandomizedEigen.Top(cov, din, dimension, new Rng(seed));
        OrientSigns(vectors, dimension, din);
        progress?.Report(1);
        return new PcaFeatures(images.Height, images.Width, images.Channels,
            stats.Mean().Select(v => (float)v).ToArray(), vectors.Select(v => (float)v).ToArray(), values, whiten);
    }

    /// <summary>Top-D eigenpairs of the full covariance (MathNet symmetric EVD), decreasing.</summary>
    private static (double[] Values, double[] Vectors) TopEigen(double[] cov, int din, int d)
    {
        var (values, vt) = Metrics.SymmetricEigen.Decompose(cov, din);   // ascending
        var top = new double[d];
        var vectors = new double[(long)d * din];
        for (int k = 0; k < d; k++)
        {
            int src = din - 1 - k;
            top[k] = values[src];
            Array.Copy(vt, (long)src * din, vectors, (long)k * din, din);
        }
        return (top, vectors);
    }

    /// <summary>Eigenvectors are defined up to sign; make each one's largest-magnitude entry positive so fits are reproducible.</summary>
    private static void OrientSigns(double[] vectors, int d, int din)
    {
        for (int k = 0; k < d; k++)
        {
            var row = vectors.AsSpan(k * din, din);
            int arg = 0;
            for (int j = 1; j < din; j++) if (Math.Abs(row[j]) > Math.Abs(row[arg])) arg = j;
            if (row[arg] < 0) foreach (ref double v in row) v = -v;
        }
    }

    public Tensor Extract(ImageDataset images, IProgress<double>? progress = null)
    {
        PixelFeatures.RequireShape(images, Height, Width, Channels, Name);
        int din = InputDimension, d = Dimension;
        var output = new float[(long)images.Count * d];
        for (int start = 0; start < images.Count; start += ChunkRows)
        {
            int n = Math.Min(ChunkRows, images.Count - start);
            var x = PixelFeatures.ToUnitRange(images.Pixels.AsSpan(start * din, n * din));
            for (int i = 0; i < n; i++)
                System.Numerics.Tensors.TensorPrimitives.Subtract(x.AsSpan(i * din, din), Mean, x.AsSpan(i * din, din));
            // One dot product per (row, component) rather than a GEMM: a BLAS may pick its kernel (and so its summation
            // order) by the row count, and a sharded extraction (7 + 8 rows) must give the bytes of one process (15).
            int offset = start * d;
            System.Threading.Tasks.Parallel.For(0, n, i =>
            {
                var row = x.AsSpan(i * din, din);
                var y = output.AsSpan(offset + i * d, d);
                for (int k = 0; k < d; k++) y[k] = System.Numerics.Tensors.TensorPrimitives.Dot(row, Components.AsSpan(k * din, din)) * Scales[k];
            });
            progress?.Report((double)(start + n) / images.Count);
        }
        return new Tensor(output, [images.Count, d]);
    }

    /// <summary>Writes mean, components, eigenvalues and scales (float32) plus the input shape as safetensors metadata.</summary>
    public void Save(string path, bool overwrite = false, IReadOnlyDictionary<string, string>? extraMetadata = null)
    {
        if (!overwrite && File.Exists(path)) throw new OutputExistsException(path);
        var meta = new Dictionary<string, string>
        {
            ["format"] = "cedm-pca-1",
            ["height"] = Height.ToString(CultureInfo.InvariantCulture),
            ["width"] = Width.ToString(CultureInfo.InvariantCulture),
            ["channels"] = Channels.ToString(CultureInfo.InvariantCulture),
            ["whiten"] = Whiten ? "true" : "false",
            ["pixel_range"] = "0..1 (u/255), HWC order",
        };
        foreach (var (k, v) in extraMetadata ?? new Dictionary<string, string>()) meta[k] = v;
        Safetensors.Write(path,
        [
            ("mean", [InputDimension], Mean),
            ("components", [Dimension, InputDimension], Components),
            ("eigenvalues", [Dimension], Eigenvalues.Select(v => (float)v).ToArray()),
            ("scales", [Dimension], Scales),
        ], meta);
    }

    public static PcaFeatures Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"PCA model {path} does not exist", path);
        var file = Safetensors.Read(path);
        if (!file.Metadata.TryGetValue("format", out var format) || format != "cedm-pca-1")
            throw new InvalidDataException($"{path}: not a cedm PCA model (cedm writes these when it fits a PCA extractor)");
        int Meta(string key) => file.Metadata.TryGetValue(key, out var v) && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= 1
            ? n : throw new InvalidDataException($"{path}: metadata '{key}' is missing or not a positive integer");
        float[] Get(string name) => file.Tensors.TryGetValue(name, out var e) ? e.Data : throw new InvalidDataException($"{path}: no tensor '{name}'");
        try
        {
            return new PcaFeatures(Meta("height"), Meta("width"), Meta("channels"), Get("mean"), Get("components"),
                Get("eigenvalues").Select(v => (double)v).ToArray(), file.Metadata.GetValueOrDefault("whiten") != "false");
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }
}
