using Cedm.Clustering.Temi;
using Cedm.Clustering.TreeVae;

namespace Cedm.Clustering;

/// <summary>The settings of one clustering: the method, K and the method's own knobs (null = the method's default).</summary>
public sealed record ClusteringSettings
{
    public string Method { get; init; } = "kmeans";

    public int K { get; init; }

    /// <summary>Restarts keeping the best fit (kmeans, gmm); default 1.</summary>
    public int? NInit { get; init; }

    /// <summary>Iteration limit; default 300 (kmeans), 100 (gmm).</summary>
    public int? MaxIter { get; init; }

    /// <summary>Tolerance; default 1e-4 (kmeans, relative to the mean feature variance), 1e-3 (gmm).</summary>
    public double? Tol { get; init; }

    /// <summary>L2-normalise the rows first (kmeans, agglo).</summary>
    public bool Cosine { get; init; }

    public CovarianceType Covariance { get; init; } = CovarianceType.Full;

    /// <summary>TEMI settings; null = the cpu preset (<see cref="TemiOptions.CpuDefault"/>).</summary>
    public TemiOptions? Temi { get; init; }

    /// <summary>TreeVAE settings; null = the cpu preset at K leaves (<see cref="TreeVaeOptions.Cpu"/>).</summary>
    public TreeVaeOptions? TreeVae { get; init; }

    /// <summary>[C, H, W] of the inputs when they are flattened images (TreeVAE keeps it to draw its decodes).</summary>
    public int[]? ImageShape { get; init; }

    public void Validate()
    {
        if (!ClusteringMethods.Names.Contains(Method)) throw new ArgumentException($"unknown method {Method}; expected one of {string.Join(", ", ClusteringMethods.Names)}", nameof(Method));
        if (K < 1) throw new ArgumentException($"must be at least 1, got {K}", nameof(K));
        if (NInit is < 1) throw new ArgumentException($"must be at least 1, got {NInit}", nameof(NInit));
        if (MaxIter is < 1) throw new ArgumentException($"must be at least 1, got {MaxIter}", nameof(MaxIter));
        if (Tol is { } t && !(t >= 0 && double.IsFinite(t))) throw new ArgumentException($"must be a finite number >= 0, got {t}", nameof(Tol));
        Temi?.Validate();
        TreeVae?.Validate();
    }
}

/// <summary>
/// The clustering methods by name (cli.md `cedm cluster --method`): how each is built from
/// <see cref="ClusteringSettings"/> and how its fitted model is saved. A new method is one file beside its siblings
/// plus one case in each switch here.
/// </summary>
public static class ClusteringMethods
{
    public static readonly string[] Names = ["kmeans", "gmm", "agglo", "temi", "treevae"];

    /// <summary>Methods that cluster the images themselves: `cedm cluster` then takes a data source, not features.</summary>
    public static bool TakesImages(string method) => method == "treevae";

    public static IClusterer Create(ClusteringSettings s)
    {
        ArgumentNullException.ThrowIfNull(s);
        s.Validate();
        return s.Method switch
        {
            "kmeans" => new KMeans(new KMeansOptions { K = s.K, NInit = s.NInit ?? 1, MaxIter = s.MaxIter ?? 300, Tol = s.Tol ?? 1e-4, Cosine = s.Cosine }),
            "gmm" => new GaussianMixture(new GaussianMixtureOptions { K = s.K, NInit = s.NInit ?? 1, MaxIter = s.MaxIter ?? 100, Tol = s.Tol ?? 1e-3, Covariance = s.Covariance }),
            "agglo" => new Agglomerative(new AgglomerativeOptions { K = s.K, Cosine = s.Cosine }),
            "temi" => new TemiClusterer(s.K, s.Temi ?? TemiOptions.CpuDefault()),
            "treevae" => new TreeVaeClusterer((s.TreeVae ?? TreeVaeOptions.Cpu(s.K)) with { MaxLeaves = s.K }) { ImageShape = s.ImageShape },
            _ => throw new SettingException(nameof(s.Method), $"unknown method {s.Method}"),
        };
    }

    /// <summary>Writes a fitted clusterer's model (<see cref="ClusterModels.FileName"/>, and the Ward tree for agglo) into <paramref name="dir"/>.</summary>
    public static void SaveModel(IClusterer clusterer, string dir, bool overwrite)
    {
        string modelPath = Path.Combine(dir, ClusterModels.FileName);
        switch (clusterer)
        {
            case KMeans km: km.Model!.Save(modelPath, overwrite); break;
            case GaussianMixture g: g.Result!.Model.Save(modelPath, overwrite); break;
            case TemiClusterer t: t.LastModel!.Save(modelPath, overwrite); break;
            case TreeVaeClusterer tv: tv.Save(dir, overwrite); break;
            case Agglomerative a:
                a.Model!.Save(modelPath, overwrite);
                a.Tree!.Save(Path.Combine(dir, ClusterTree.FileName), overwrite);
                break;
        }
    }

    /// <summary>A TEMI preset with overrides; the warm-up keeps its share of the epochs.</summary>
    public static TemiOptions TemiPreset(string preset, double? beta = null, int? heads = null, int? epochs = null, int? knn = null, int? whiten = null)
    {
        var o = TemiOptions.FromPreset(preset);
        if (whiten is int w)
        {
            if (w < 0) throw new SettingException("Whiten", $"must be 0 (raw features) or a dimension ≥ 1, got {w}");
            o = o with { Whiten = w };
        }
        if (beta is double b) o = o with { Beta = b };
        if (heads is int h) o = o with { Heads = h };
        if (knn is int nn) o = o with { Neighbours = nn };
        if (epochs is int e)
        {
            if (e < 1) throw new SettingException("Epochs", $"must be at least 1, got {e}");
            o = o with { Epochs = e, WarmupEpochs = (int)((long)e * o.WarmupEpochs / o.Epochs) };
        }
        o.Validate();
        return o;
    }
}
