using System.Diagnostics;
using System.Text.Json;

namespace Cedm.Benchmarks.Harness;

/// <summary>Result of running a suite's PyTorch peer once: per-case timings, or why there are none.</summary>
/// <remarks>Quality: per peer case, the numbers of a {"quality": case, name: value, ...} line (clustering suite).</remarks>
public sealed record PeerResult(IReadOnlyDictionary<string, TimingStats> Cases, IReadOnlyList<string> Info, string? Unavailable,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>>? Quality = null);

/// <summary>
/// Runs bench/peers/&lt;script&gt; once per suite with Debian's /usr/bin/python3 (the pyenv python on PATH has
/// no torch). OPENBLAS_NUM_THREADS=1 plus torch.set_num_threads(threads) inside the script is PyTorch's
/// fastest configuration here (otherwise OpenBLAS threads and torch's intra-op threads oversubscribe).
/// The peer prints JSON lines {"case", "min_ms", "median_ms", "max_ms"}; other lines are shown as info.
/// </summary>
public static class PeerRunner
{
    public const string Python = "/usr/bin/python3";
    private const string InstallHint = "install the peer with: apt-get install python3-torch python3-numpy";

    /// <param name="onlyCases">With <paramref name="filtered"/>, the peer cases to run (passed as --cases a,b; the
    /// peer skips the others, so a filtered run does not pay for cases nobody compares with).</param>
    public static PeerResult Run(string peersDir, string script, int repeats, int threads, double sampleMs,
        IReadOnlyList<string>? onlyCases = null, bool filtered = false)
    {
        string path = Path.Combine(peersDir, script);
        if (!File.Exists(Python))
            return Unavailable($"{Python} not found; {InstallHint}");
        if (!File.Exists(path))
            return Unavailable($"peer script {path} not found");

        var psi = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { path, "--repeats", repeats.ToString(), "--threads", threads.ToString(),
                     "--sample-ms", sampleMs.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(arg);
        if (filtered && onlyCases is not null)
        {
            psi.ArgumentList.Add("--cases");
            psi.ArgumentList.Add(string.Join(',', onlyCases));
        }
        psi.Environment["OPENBLAS_NUM_THREADS"] = "1";
        psi.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        // torch's BLAS is the same Debian OpenBLAS: give it the kernel choice we gave ours (see OpenBlas.cs),
        // otherwise it runs the generic SSE3 kernels on CPUs OpenBLAS 0.3.21 does not recognise.
        if (Cedm.Tensors.Native.OpenBlas.IsAvailable && Cedm.Tensors.Native.OpenBlas.CoreTypeOverride is { } core)
            psi.Environment["OPENBLAS_CORETYPE"] = core;

        using var proc = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {Python}");
        var stderrTask = proc.StandardError.ReadToEndAsync();
        string stdout = proc.StandardOutput.ReadToEnd();
        proc.WaitForExit();
        string stderr = stderrTask.Result;

        var cases = new Dictionary<string, TimingStats>();
        var info = new List<string>();
        var quality = new Dictionary<string, IReadOnlyDictionary<string, double>>();
        string? error = null;
        foreach (string line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            try
            {
                using var doc = JsonDocument.Parse(line);
                var root = doc.RootElement;
                if (root.TryGetProperty("case", out var c))
                {
                    cases[c.GetString()!] = new TimingStats(root.GetProperty("min_ms").GetDouble(),
                        root.GetProperty("median_ms").GetDouble(), root.GetProperty("max_ms").GetDouble(),
                        root.TryGetProperty("iterations", out var it) ? it.GetInt32() : 0,
                        root.TryGetProperty("repeats", out var rp) ? rp.GetInt32() : repeats);
                }
                else if (root.TryGetProperty("quality", out var q))
                    quality[q.GetString()!] = root.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Number)
                        .ToDictionary(p => p.Name, p => p.Value.GetDouble());
                else if (root.TryGetProperty("error", out var e))
                    error = e.GetString();
                else
                    info.Add(line);
            }
            catch (JsonException)
            {
                info.Add(line);
            }
        }
        if (error is not null)
            return Unavailable($"{error}; {InstallHint}");
        if (proc.ExitCode != 0)
            return Unavailable($"peer exited with code {proc.ExitCode}: {LastLines(stderr, 5)}");
        return new PeerResult(cases, info, null, quality);
    }

    private static PeerResult Unavailable(string why) => new(new Dictionary<string, TimingStats>(), [], why);

    private static string LastLines(string text, int n) =>
        string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(n));
}
