using System.CommandLine;
using System.Text.Json.Nodes;
using Cedm.IO;
using Cedm.Metrics;

namespace Cedm.Cli.Commands;

/// <summary>
/// `cedm fd a.npy b.npy`: Fréchet distance of two stored feature sets (cli.md; like pytorch-fid on precomputed features).
/// Either side may instead be an .npz of statistics (mu, sigma; pytorch-fid / EDM fid.py layout, docs/data.md).
/// </summary>
public static class FdCommand
{
    public static Command Build()
    {
        var a = new Argument<string>("a") { Description = "First features file: float32 or float64 .npy shaped (N, D), or an .npz of statistics with mu (D,) and sigma (D, D) (pytorch-fid / EDM fid.py layout)." };
        var b = new Argument<string>("b") { Description = "Second features file or .npz statistics, same D." };
        var json = GlobalOptions.Json();
        var cmd = new Command("fd", "Fréchet distance between two feature sets (float64 statistics, N-1 covariance, spec §6.1).") { a, b, json };
        cmd.SetAction(parse =>
        {
            var sa = ReadStatistics(parse.GetValue(a)!);
            var sb = ReadStatistics(parse.GetValue(b)!);
            if (sa.Dimension != sb.Dimension)
                throw new UsageException($"{parse.GetValue(a)} has D = {sa.Dimension} but {parse.GetValue(b)} has D = {sb.Dimension}; both feature sets must have the same dimension");
            double fd = FrechetDistance.FromStatistics(sa.Mu, sa.Sigma, sb.Mu, sb.Sigma);
            var w = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
                w.WriteLine(new JsonObject { ["fd"] = fd, ["n_a"] = sa.Count, ["n_b"] = sb.Count, ["d"] = sa.Dimension }.ToJsonString());
            else
                w.WriteLine(FormattableString.Invariant($"fd {fd:G10}  (a: {sa.Count?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "stats"} x {sa.Dimension}, b: {sb.Count?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "stats"} x {sb.Dimension})"));
            return 0;
        });
        return cmd;
    }

    /// <summary>Mean and covariance of a features file, or read from an .npz; Count is null for an .npz (it records none).</summary>
    private sealed record Side(double[] Mu, double[] Sigma, int Dimension, long? Count);

    private static Side ReadStatistics(string path)
    {
        if (ReferenceStatistics.IsNpz(path))
        {
            var r = ReferenceStatistics.Load(path);
            return new Side(r.Mu, r.Sigma, r.Dimension, null);
        }
        var s = ReadFeatures(path);
        return new Side(s.Mean(), s.Covariance(), s.Dimension, s.Count);
    }

    /// <summary>float64 files keep their precision (statistics are accumulated in float64 either way).</summary>
    private static FeatureStatistics ReadFeatures(string path)
    {
        // At least 2 rows: a covariance needs 2 feature vectors.
        var arr = Cedm.Features.FeatureFile.ReadValidated(path, minRows: 2);
        var s = new FeatureStatistics(arr.Shape[1]);
        if (arr.DType == DType.F64) s.Add(arr.ToFloat64(), arr.Shape[0]);
        else s.Add(arr.ToFloat32(), arr.Shape[0]);
        return s;
    }
}
