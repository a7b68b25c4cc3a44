using System.Globalization;
using Cedm.Reporting;

namespace Cedm.Pipeline.Study;

/// <summary>
/// The study's figures as <see cref="LineChart"/>s: FD over K (C-EDM Figure 3 at our scale: the K sweep with the
/// unconditional and label models as horizontal references and K_UB marked), the utilisation ratio over K beside
/// it, and FD over training images for the unconditional and the best-K model (sample efficiency).
/// </summary>
public static class StudyPlots
{
    public const string FdOverKFile = "plots/fd_vs_k.svg", RatioOverKFile = "plots/ratio_vs_k.svg", FdOverKimgFile = "plots/fd_vs_kimg.svg";

    public static LineChart FdOverK(StudyResult r)
    {
        var ks = r.Rows.Where(x => x.Kind == "clusters" && x.K is not null && IsPlainName(r, x)).OrderBy(x => x.K).ToList();
        double lo = ks.Count > 0 ? ks.Min(x => x.K!.Value) : 1, hi = ks.Count > 0 ? ks.Max(x => x.K!.Value) : 2;
        var series = new List<ChartSeries> { new("cluster-conditioned (K)", ks.Select(x => ((double)x.K!.Value, x.Fd)).ToList()) };
        // One line per reference model at the mean over its training seeds (uncond, uncond-s1, ...).
        foreach (var reference in r.Rows.Where(x => x.Kind is "uncond" or "labels").GroupBy(x => x.Kind))
        {
            double mean = reference.Average(x => x.Fd);
            string name = reference.Key == "uncond" ? "unconditional" : $"labels (K = {reference.First().K})";
            if (reference.Count() > 1) name += $", mean of {reference.Count()} seeds ({string.Join(", ", reference.Select(x => F(x.Fd, "0.##")))})";
            series.Add(new ChartSeries(name, [(lo, mean), (hi, mean)]));
        }
        foreach (var extra in r.Rows.Where(x => x.Kind == "clusters" && !IsPlainName(r, x)))
            series.Add(new ChartSeries(StudyVariant.SeedOffsetOf(extra.Name) is int seed ? $"K = {extra.K}, training seed {seed} ({extra.Name})" : extra.Name, [((double)extra.K!.Value, extra.Fd)]));
        var markers = r.KUb is int kub ? new[] { new ChartMarker(kub, $"K_UB = {kub}") } : [];
        return new LineChart($"FD over K ({r.Evaluator}, {r.Options.EvalSamples} samples, {r.Options.Kimg:0.###} kimg each)", "K (clusters)", "FD (lower is better)",
            series, markers, LogX: true);
    }

    /// <summary>Utilisation ratio K_used / K of the bound search's runs and of the study's clusterings.</summary>
    public static LineChart RatioOverK(StudyResult r, IReadOnlyList<(double K, double Ratio)> boundTable)
    {
        var ks = r.Rows.Where(x => x.Kind == "clusters" && x.Ratio is not null).GroupBy(x => x.K).Select(g => g.First()).OrderBy(x => x.K).ToList();
        var series = new List<ChartSeries>();
        if (boundTable.Count > 0) series.Add(new ChartSeries("bound search r(K)", boundTable.OrderBy(p => p.K).ToList()));
        series.Add(new ChartSeries("study clusterings", ks.Select(x => ((double)x.K!.Value, x.Ratio!.Value)).ToList()));
        var markers = r.KUb is int kub ? new[] { new ChartMarker(kub, $"K_UB = {kub}") } : [];
        return new LineChart("Utilisation ratio over K", "K (clusters)", "K_used / K", series, markers, LogX: true, YMin: 0, YMax: 1.05);
    }

    public static LineChart FdOverKimg(StudyResult r) =>
        new("Sample efficiency: FD over training images", "thousand training images (kimg)", "FD (lower is better)",
            r.Series.GroupBy(p => p.Variant).Select(g => new ChartSeries(g.Key, g.OrderBy(p => p.Kimg).Select(p => (p.Kimg, p.Fd)).ToList())).ToList());

    /// <summary>Plain K-sweep rows are the ones named k&lt;K&gt; (extras carry their own names).</summary>
    private static bool IsPlainName(StudyResult r, StudyRow x) => x.K is int k && x.Name == StudyVariant.ClusterName(k);

    public static string F(double v, string format = "0.###") => double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "–";
}
