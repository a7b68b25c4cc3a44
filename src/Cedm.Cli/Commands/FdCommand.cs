using System.CommandLine;
using System.Text.Json.Nodes;
using Cedm.IO;
using Cedm.Metrics;

namespace Cedm.Cli.Commands;

/// <summary>`cedm fd a.npy b.npy`: Fréchet distance of two stored feature sets (cli.md; like pytorch-fid on precomputed features).</summary>
public static class FdCommand
{
    public static Command Build()
    {
        var a = new Argument<string>("a") { Description = "First features file: float32 or float64 .npy shaped (N, D)." };
        var b = new Argument<string>("b") { Description = "Second features file, same D." };
        var json = GlobalOptions.Json();
        var cmd = new Command("fd", "Fréchet distance between two feature sets (float64 statistics, N-1 covariance, spec §6.1).") { a, b, json };
        cmd.SetAction(parse =>
        {
            var sa = ReadStatistics(parse.GetValue(a)!);
            var sb = ReadStatistics(parse.GetValue(b)!);
            if (sa.Dimension != sb.Dimension)
                throw new UsageException($"{parse.GetValue(a)} has D = {sa.Dimension} but {parse.GetValue(b)} has D = {sb.Dimension}; both feature sets must have the same dimension");
            double fd = FrechetDistance.FromStatistics(sa.Mean(), sa.Covariance(), sb.Mean(), sb.Covariance());
            var w = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
                w.WriteLine(new JsonObject { ["fd"] = fd, ["n_a"] = sa.Count, ["n_b"] = sb.Count, ["d"] = sa.Dimension }.ToJsonString());
            else
                w.WriteLine(FormattableString.Invariant($"fd {fd:G10}  (a: {sa.Count} x {sa.Dimension}, b: {sb.Count} x {sb.Dimension})"));
            return 0;
        });
        return cmd;
    }

    /// <summary>float64 files keep their precision (statistics are accumulated in float64 either way).</summary>
    private static FeatureStatistics ReadStatistics(string path)
    {
        // At least 2 rows: a covariance needs 2 feature vectors.
        var arr = Cedm.Features.FeatureFile.ReadValidated(path, minRows: 2);
        var s = new FeatureStatistics(arr.Shape[1]);
        if (arr.DType == DType.F64) s.Add(arr.ToFloat64(), arr.Shape[0]);
        else s.Add(arr.ToFloat32(), arr.Shape[0]);
        return s;
    }
}
