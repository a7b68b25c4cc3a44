using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Cedm.Benchmarks.Harness;

/// <summary>One table row: our timing for a case, next to the peer's timing of its peer case.</summary>
/// <remarks>GFLOP/s are from the median time; the "best" variants from the minimum, which is the better estimate
/// of the kernel's own speed when other processes share the cores.</remarks>
public sealed record ResultRow(string Case, TimingStats Ours, double? OursGflops, double? OursBestGflops,
    string? PeerCase, TimingStats? Torch, double? TorchGflops, double? TorchBestGflops, double? Items = null,
    IReadOnlyDictionary<string, double>? OursQuality = null, IReadOnlyDictionary<string, double>? PeerQuality = null)
{
    /// <summary>Items per second from the median times (ours, torch), when the case declares items per call.</summary>
    public double? OursItemsPerSecond => Items is null ? null : Items / (Ours.MedianMs / 1000.0);

    public double? TorchItemsPerSecond => Items is null || Torch is null ? null : Items / (Torch.MedianMs / 1000.0);

    /// <summary>torch median / our median: above 1 means we are faster.</summary>
    public double? Ratio => Torch is null ? null : Torch.MedianMs / Ours.MedianMs;
}

/// <summary>Runs a suite: our cases first, then the peer once (never concurrently: they share the cores).</summary>
public static class SuiteRunner
{
    public static IReadOnlyList<ResultRow> Run(IBenchSuite suite, BenchOptions options, TextWriter log)
    {
        var ours = new List<(BenchCase Case, TimingStats Stats, IReadOnlyDictionary<string, double>? Quality)>();
        foreach (BenchCase bc in suite.Cases.Where(c => options.Selects(c.Name)))
        {
            Action action = bc.Setup();
            TimingStats stats = Timing.Measure(action, options.Repeats, options.SampleMs);
            var quality = bc.Quality?.Invoke();
            log.WriteLine($"  {bc.Name,-28} median {stats.MedianMs,9:F3} ms" + (quality is null ? "" : "  " + FormatQuality(quality)));
            ours.Add((bc, stats, quality));
            // Drop the case's buffers before the next one allocates.
            GC.Collect();
        }

        PeerResult? peer = null;
        if (suite.PeerScript is not null && !options.NoPeer)
        {
            log.WriteLine($"  running peer {suite.PeerScript} ...");
            peer = PeerRunner.Run(options.PeersDir, suite.PeerScript, options.Repeats, options.Threads, options.SampleMs,
                ours.Where(o => o.Case.PeerCase is not null).Select(o => o.Case.PeerCase!).Distinct().ToList(), options.Cases.Count > 0);
            foreach (string line in peer.Info)
                log.WriteLine($"  peer: {line}");
            if (peer.Unavailable is not null)
                log.WriteLine($"  peer unavailable: {peer.Unavailable}");
        }

        return ours.Select(o =>
        {
            TimingStats? torch = o.Case.PeerCase is not null && peer?.Cases.TryGetValue(o.Case.PeerCase, out var t) == true ? t : null;
            var peerQuality = o.Case.PeerCase is not null && peer?.Quality?.TryGetValue(o.Case.PeerCase, out var pq) == true ? pq : null;
            return new ResultRow(o.Case.Name, o.Stats, Gflops(o.Case.Flops, o.Stats?.MedianMs), Gflops(o.Case.Flops, o.Stats?.MinMs),
                o.Case.PeerCase, torch, Gflops(o.Case.Flops, torch?.MedianMs), Gflops(o.Case.Flops, torch?.MinMs), o.Case.Items, o.Quality, peerQuality);
        }).ToList();
    }

    private static string FormatQuality(IReadOnlyDictionary<string, double> q) =>
        string.Join(", ", q.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value:G6}")));

    /// <summary>"inertia 1.0021x, nmi +0.003": ratio ours/peer for magnitudes, difference for scores in [−1, 1] and log-likelihoods.</summary>
    private static string CompareQuality(IReadOnlyDictionary<string, double>? ours, IReadOnlyDictionary<string, double>? peer)
    {
        if (ours is null) return "";
        if (peer is null) return FormatQuality(ours);
        return string.Join(", ", ours.Where(kv => peer.ContainsKey(kv.Key)).Select(kv =>
        {
            double p = peer[kv.Key];
            return kv.Key is "inertia" or "iterations"
                ? string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value:G6} vs {p:G6} ({kv.Value / p:F4}x)")
                : string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value:F4} vs {p:F4} ({Math.Round(kv.Value - p, 4) + 0.0:+0.0000;-0.0000;+0.0000})");
        }));
    }

    private static double? Gflops(double? flops, double? ms) =>
        flops is null || ms is null ? null : flops.Value / (ms.Value * 1e6);

    public static string FormatTable(string suite, IReadOnlyList<ResultRow> rows)
    {
        static string Ms(TimingStats? t) => t is null ? "n/a" : string.Create(CultureInfo.InvariantCulture, $"{t.MinMs:F3} / {t.MedianMs:F3} / {t.MaxMs:F3}");
        static string Num(double? v, string fmt) => v is null ? "" : v.Value.ToString(fmt, CultureInfo.InvariantCulture);
        static string Gf(double? med, double? best) => med is null ? "" : $"{Num(med, "F1")} ({Num(best, "F1")})";

        bool items = rows.Any(r => r.Items is not null);
        bool quality = rows.Any(r => r.OursQuality is not null);
        var header = new[] { "case", "ours ms min/med/max", "GFLOP/s med (best)", "torch ms min/med/max", "GFLOP/s med (best)", "torch/ours med" };
        if (items) header = [.. header, "items/s ours / torch (med)"];
        if (quality) header = [.. header, "quality: ours vs peer"];
        var cells = rows.Select(r =>
        {
            string[] c = [r.Case, Ms(r.Ours), Gf(r.OursGflops, r.OursBestGflops), Ms(r.Torch), Gf(r.TorchGflops, r.TorchBestGflops), Num(r.Ratio, "F2")];
            if (items) c = [.. c, r.Items is null ? "" : $"{Num(r.OursItemsPerSecond, "F2")} / {(r.Torch is null ? "n/a" : Num(r.TorchItemsPerSecond, "F2"))}"];
            if (quality) c = [.. c, CompareQuality(r.OursQuality, r.PeerQuality)];
            return c;
        }).ToList();
        int[] width = header.Select((h, i) => Math.Max(h.Length, cells.Select(c => c[i].Length).DefaultIfEmpty(0).Max())).ToArray();
        var sb = new StringBuilder();
        sb.AppendLine($"== {suite} ==");
        void Line(string[] c) => sb.AppendLine(string.Join(" | ", c.Select((x, i) => i == 0 || i == 6 ? x.PadRight(width[i]) : x.PadLeft(width[i]))));
        Line(header);
        sb.AppendLine(string.Join("-+-", width.Select(w => new string('-', w))));
        foreach (var c in cells)
            Line(c);
        return sb.ToString();
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Writes bench/results/&lt;suite&gt;-&lt;timestamp&gt;.json (git-ignored) and returns its path.</summary>
    public static string WriteJson(string resultsDir, string suite, IReadOnlyList<ResultRow> rows, IDictionary<string, string> environment)
    {
        Directory.CreateDirectory(resultsDir);
        string path = Path.Combine(resultsDir, $"{suite}-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json");
        var doc = new { suite, environment, rows };
        File.WriteAllText(path, JsonSerializer.Serialize(doc, Indented));
        return path;
    }
}
