using System.Globalization;
using Cedm.Clustering;
using Cedm.Data;
using Cedm.Diffusion.FeatureConditioning;
using Cedm.Features;
using Cedm.Metrics;

namespace Cedm.Stages;

/// <summary>
/// The adapter for continuous conditions (`--cond features:&lt;npy&gt;` and `gmm:&lt;dir&gt;`, related-seeds B.3): reads the
/// features (and clustering), fits the whitening (<see cref="FeatureWhitening"/>) and the per-cluster Gaussians
/// (<see cref="ComponentGaussians"/>), and hands Diffusion the neutral <see cref="FeatureSource"/>.
/// </summary>
public static class FeatureConditions
{
    public const string FeaturesPrefix = "features:", GmmPrefix = "gmm:";

    /// <summary>Whether <paramref name="spec"/> names a continuous condition.</summary>
    public static bool IsFeatureSpec(string spec) =>
        spec.StartsWith(FeaturesPrefix, StringComparison.Ordinal) || spec.StartsWith(GmmPrefix, StringComparison.Ordinal);

    /// <summary>A fresh fit for a new run of <paramref name="dataset"/>.</summary>
    public static (FeatureSource Source, FeatureConditionConfig Config, FeatureSpace Space) Fit(string spec, FeatureConditionOptions options, ImageDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(dataset);
        options.Validate();
        var (kind, featuresPath, clusters, components) = Read(spec, options, dataset.Count);
        var (x, n, dIn) = ReadFeatures(featuresPath, dataset.Count, dataset.Name);
        if (options.Dim > dIn) throw new SettingException("FeatureDim", $"{options.Dim} is more than the {dIn} dimensions of {featuresPath}");
        if (kind == "features" && options.Mode != "own") throw new SettingException("GmmMode", "features: conditions each image on its own vector; use gmm:<dir> for centroid or draw");
        var (mean, projection, eig) = FeatureWhitening.Fit(x, n, dIn, options.Dim);
        var space = new FeatureSpace(mean, projection, eig);
        var z = space.Apply(x, n);
        int k = components.Used.Length;
        string respKind = "hard";
        float[] resp;
        if (clusters?.Probabilities is { } probs && options.Assign != "hard")
        {
            resp = SoftResponsibilities(probs, clusters.K, components.Ids, components.Used);
            respKind = "soft";
        }
        else
        {
            if (options.Assign == "soft") throw new SettingException("GmmAssign", $"{clusters?.Origin ?? featuresPath}: no probs.npy (soft assignments) to fit with");
            resp = new float[n * k];
            for (int i = 0; i < n; i++) resp[i * k + components.Ids[i]] = 1f;
        }
        var g = ComponentGaussians.Fit(z, n, options.Dim, resp, k, new CovarianceModel(Math.Min(options.Rank, options.Dim), options.Shrinkage));
        var mixture = new FeatureMixture(g.Dimension, g.Rank, g.Weights, g.Means, g.Diagonal, g.Factors, components.Used);
        double total = TotalVariance(x, n, dIn);
        var config = new FeatureConditionConfig
        {
            Kind = kind, Features = Path.GetFullPath(featuresPath), Clusters = clusters?.Origin, Options = options with { Features = Path.GetFullPath(featuresPath) },
            InputDim = dIn, Components = k, Responsibilities = respKind, ExplainedVariance = total > 0 ? Math.Min(1, eig.Sum() / total) : 1,
        };
        return (new FeatureSource(options.Mode, mixture, z, components.Ids, options.Temperature), config, space);
    }

    /// <summary>
    /// A warning when the top d of the features' D principal directions keep hardly more than d/D of their variance:
    /// the features are (nearly) whitened already (e.g. `pca:&lt;D&gt;`), so which d directions the whitening keeps is
    /// arbitrary and part of what the features say is dropped at random; d = D keeps all of it. Null otherwise.
    /// </summary>
    public static string? FlatSpectrumWarning(FeatureConditionConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        int d = config.Options.Dim, dIn = config.InputDim;
        if (d >= dIn || config.ExplainedVariance > 1.1 * d / dIn) return null;
        return string.Create(CultureInfo.InvariantCulture,
            $"warning: the top {d} of the {dIn} feature directions keep {config.ExplainedVariance:P1} of the variance, about {d}/{dIn}: {config.Features} looks whitened already, so the {d} directions kept are arbitrary; --feature-dim {dIn} keeps every direction");
    }

    /// <summary>The source of a saved run: its whitening and mixture from the run folder, the features re-read.</summary>
    public static FeatureSource Reload(string runDir, FeatureConditionConfig config, ImageDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(config);
        var (space, mixture) = FeatureConditionConfig.Load(runDir);
        string spec = config.Kind == "features" ? FeaturesPrefix + config.Features : GmmPrefix + config.Clusters;
        var (_, path, _, components) = Read(spec, config.Options, dataset.Count);
        var (x, n, dIn) = ReadFeatures(path, dataset.Count, dataset.Name);
        if (dIn != space.InputDimension) throw new InvalidDataException($"{path}: {dIn} feature dimensions, the run was fitted on {space.InputDimension}");
        var ids = components.Used.Select(u => mixture.IndexOf(u)).ToArray();
        if (ids.Any(i => i < 0)) throw new InvalidDataException($"{runDir}: the clustering's utilised clusters differ from the saved mixture's");
        return new FeatureSource(config.Options.Mode, mixture, space.Apply(x, n), components.Ids.Select(c => ids[c]).ToArray(), config.Options.Temperature);
    }

    /// <summary>Validated features of <paramref name="path"/> (finite, (N, D)) with N = <paramref name="count"/>.</summary>
    public static (float[] X, int N, int D) ReadFeatures(string path, int count, string datasetName)
    {
        var a = FeatureFile.ReadValidated(path);
        if (a.Shape[0] != count) throw new InvalidDataException($"{path}: {a.Shape[0]} feature rows for {count} images of {datasetName}");
        return (a.ToFloat32(), a.Shape[0], a.Shape[1]);
    }

    private sealed record Components(int[] Ids, long[] Used);

    private static (string Kind, string Features, Diffusion.Labels.ClusterLabels? Clusters, Components Components) Read(string spec, FeatureConditionOptions options, int count)
    {
        if (spec.StartsWith(FeaturesPrefix, StringComparison.Ordinal))
        {
            string path = spec[FeaturesPrefix.Length..];
            if (path.Length == 0) throw new SettingException("Cond", "features: needs a .npy file (features:<feats.npy>)");
            return ("features", path, null, new Components(new int[count], [0]));
        }
        if (!spec.StartsWith(GmmPrefix, StringComparison.Ordinal)) throw new SettingException("Cond", $"expected features:<npy> or gmm:<dir>, got '{spec}'");
        string dir = spec[GmmPrefix.Length..];
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"gmm:{dir}: no such folder (expected a `cedm cluster` output)");
        var clusters = ConditionSources.LoadClusters(dir);
        if (clusters.Count != count) throw new InvalidDataException($"gmm:{dir}: {clusters.Count} cluster ids for {count} images");
        string? features = options.Features;
        if (features == null)
        {
            string record = Path.Combine(dir, ClusteringRecord.FileName);
            if (!File.Exists(record)) throw new SettingException("GmmFeatures", $"gmm:{dir}: no {ClusteringRecord.FileName} naming its features; give the features file");
            features = ClusteringRecord.Load(dir)?.Features ?? throw new InvalidDataException($"{record}: unreadable clustering record");
        }
        var (ids, used) = clusters.Compacted();
        return ("gmm", features, clusters, new Components(ids, used));
    }

    /// <summary>probs [N, K] restricted to the utilised clusters and renormalised per row (a row with no mass there: its hard id).</summary>
    private static float[] SoftResponsibilities(float[] probs, int kAll, int[] ids, long[] used)
    {
        int n = ids.Length, k = used.Length;
        if (probs.Length != (long)n * kAll) throw new InvalidDataException($"probs.npy holds {probs.Length} values for {n}x{kAll}");
        var resp = new float[n * k];
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int c = 0; c < k; c++) s += resp[i * k + c] = Math.Max(probs[i * kAll + (int)used[c]], 0f);
            if (s > 0) for (int c = 0; c < k; c++) resp[i * k + c] = (float)(resp[i * k + c] / s);
            else resp[i * k + ids[i]] = 1f;
        }
        return resp;
    }

    private static double TotalVariance(float[] x, int n, int d)
    {
        double total = 0;
        for (int j = 0; j < d; j++)
        {
            double m = 0, ss = 0;
            for (int i = 0; i < n; i++) m += x[i * d + j];
            m /= n;
            for (int i = 0; i < n; i++) { double v = x[i * d + j] - m; ss += v * v; }
            total += ss / (n - 1);
        }
        return total;
    }
}
