using Cedm.IO;

namespace Cedm.Metrics;

/// <summary>
/// The mean and covariance of a feature set, as an .npz with float64 arrays <c>mu</c> (D,) and <c>sigma</c> (D, D):
/// the layout pytorch-fid's <c>--save-stats</c> and NVlabs/edm's <c>fid.py ref</c> write (both <c>np.savez</c>), so
/// reference statistics computed there can be used here and ours there. Only meaningful in the same feature space:
/// an FID reference (Inception-v3 pool3, D = 2048) pairs only with <c>--evaluator inception:&lt;weights&gt;</c>.
/// float32 arrays are accepted and widened; the covariance must be square and match <c>mu</c>.
/// </summary>
public sealed record ReferenceStatistics(double[] Mu, double[] Sigma)
{
    public int Dimension => Mu.Length;

    public static bool IsNpz(string path) => path.EndsWith(".npz", StringComparison.OrdinalIgnoreCase);

    public static ReferenceStatistics Load(string path)
    {
        var arrays = Npz.Read(path);
        if (!arrays.TryGetValue("mu", out var mu) || !arrays.TryGetValue("sigma", out var sigma))
            throw FormatError.Of(path, $"expected arrays 'mu' and 'sigma' (pytorch-fid / EDM fid.py layout), found {(arrays.Count == 0 ? "none" : string.Join(", ", arrays.Keys.Order(StringComparer.Ordinal)))}");
        if (!mu.DType.IsFloat() || !sigma.DType.IsFloat())
            throw FormatError.Of(path, $"mu and sigma must be floating point, found {mu.DType} and {sigma.DType}");
        if (mu.Shape.Length != 1 || mu.Shape[0] < 1)
            throw FormatError.Of(path, $"mu must be shaped (D,), found ({string.Join(", ", mu.Shape)})");
        int d = mu.Shape[0];
        if (sigma.Shape.Length != 2 || sigma.Shape[0] != d || sigma.Shape[1] != d)
            throw FormatError.Of(path, $"sigma must be shaped ({d}, {d}) to match mu, found ({string.Join(", ", sigma.Shape)})");
        var m = mu.ToFloat64();
        var s = sigma.ToFloat64();
        if (m.Any(v => !double.IsFinite(v)) || s.Any(v => !double.IsFinite(v))) throw FormatError.Of(path, "mu or sigma holds NaN or infinity");
        // Beyond features of magnitude 1e15 (FeatureFile.MaxMagnitude) the trace-sqrt's eigen-decomposition overflows.
        const double maxMean = 1e15, maxCov = maxMean * maxMean;
        if (m.Any(v => Math.Abs(v) > maxMean) || s.Any(v => Math.Abs(v) > maxCov)) throw FormatError.Of(path, $"mu or sigma is out of range (|mu| > {maxMean:g2} or |sigma| > {maxCov:g2})");
        double scale = s.Max(Math.Abs);
        for (int i = 0; i < d; i++)
        {
            if (s[i * d + i] < 0) throw FormatError.Of(path, $"sigma[{i}, {i}] = {s[i * d + i]} is negative: not a covariance");
            for (int j = i + 1; j < d; j++)
                if (Math.Abs(s[i * d + j] - s[j * d + i]) > 1e-6 * scale)
                    throw FormatError.Of(path, $"sigma is not symmetric (sigma[{i}, {j}] = {s[i * d + j]}, sigma[{j}, {i}] = {s[j * d + i]})");
        }
        return new ReferenceStatistics(m, s);
    }

    public void Save(string path, bool overwrite = true)
    {
        int d = Dimension;
        if (Sigma.Length != (long)d * d) throw new InvalidOperationException($"sigma has {Sigma.Length} values, expected {d}x{d}");
        Npz.Write(path, [("mu", new NpyArray(DType.F64, [d], Mu)), ("sigma", new NpyArray(DType.F64, [d, d], Sigma))], overwrite);
    }
}
