// TEMI probe: trains TEMI on labelled features with a preset plus overrides and prints, per run, every teacher head's
// used clusters, NMI against the labels and final epoch loss, the head the rule picked, and the time.
// Usage: TemiProbe <feats.npy | blobs:n,k,d,seed[,spread,std]> <labels.npy | -> <k> <preset> <seeds, e.g. 1-10> [Property=value ...]
//   Property = any TemiOptions property (Heads=16, TeacherMomentum=0.99, ...), or HeadRule=loss|... (see TemiOptions).
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cedm.Clustering;
using Cedm.Clustering.Temi;
using Cedm.IO;
using Cedm.Metrics.Clustering;
using Cedm.Tensors;

var inv = CultureInfo.InvariantCulture;
Tensor x;
int[] y;
if (args[0].StartsWith("blobs:", StringComparison.Ordinal))
{
    // blobs:n,k,d,seed[,spread,std]: Cedm.Clustering.GaussianBlobs (what the unit tests use); args[1] is ignored.
    var b = args[0][6..].Split(',').Select(v => double.Parse(v, inv)).ToArray();
    (x, y) = GaussianBlobs.Generate((int)b[0], (int)b[1], (int)b[2], new Rng((ulong)b[3]), b.Length > 4 ? (float)b[4] : 4f, b.Length > 5 ? (float)b[5] : 1f);
}
else
{
    var xa = Npy.Read(args[0]);
    x = new Tensor(xa.ToFloat32(), xa.Shape[0], xa.Shape[1]);
    y = Npy.Read(args[1]).ToInt64().Select(v => (int)v).ToArray();
}
int k = int.Parse(args[2], inv);
var node = (JsonObject)JsonSerializer.SerializeToNode(TemiOptions.FromPreset(args[3]))!;
var seedParts = args[4].Split('-');
int s0 = int.Parse(seedParts[0], inv), s1 = seedParts.Length > 1 ? int.Parse(seedParts[1], inv) : s0;
foreach (var kv in args.Skip(5))
{
    var p = kv.Split('=', 2);
    node[p[0]] = JsonNode.Parse(p[1]);
}
var options = node.Deserialize<TemiOptions>()!;
Console.WriteLine($"# {string.Join(' ', args.Skip(2))}  N={x.Dim(0)} D={x.Dim(1)}");
var nn = Knn.CosineTopK(x, Math.Min(options.Neighbours, x.Dim(0) - 1));
int ok = 0;
var nmis = new List<double>();
for (int seed = s0; seed <= s1; seed++)
{
    var clock = System.Diagnostics.Stopwatch.StartNew();
    var temi = new TemiClusterer(k, options) { Neighbours = nn };
    var a = temi.Fit(x, new Rng((ulong)seed));
    double secs = clock.Elapsed.TotalSeconds;
    var tr = temi.LastTraining!;
    var heads = new List<string>();
    double bestHeadNmi = 0;
    for (int h = 0; h < tr.Teacher.Count; h++)
    {
        var (ids, _) = new TemiModel(tr.Teacher[h], options.TeacherTemperature).Predict(x);
        double nmi = Nmi.Compute(Contingency.FromLabels(ids, y));
        bestHeadNmi = Math.Max(bestHeadNmi, nmi);
        heads.Add(string.Create(inv, $"{h}:{ids.Distinct().Count()}/{nmi:F3}/{tr.EpochHeadLosses[^1][h]:F3}"));
    }
    double chosen = Nmi.Compute(Contingency.FromLabels(a.Ids, y));
    nmis.Add(chosen);
    bool good = a.Utilized == k && chosen >= 0.95;
    if (good) ok++;
    Console.WriteLine(string.Create(inv, $"seed {seed}: used {a.Utilized} NMI {chosen:F3} head {tr.BestHead} (best head NMI {bestHeadNmi:F3}) {secs:F1} s  {(good ? "ok" : "FAIL")}"));
    Console.WriteLine("   heads used/nmi/loss: " + string.Join(' ', heads));
}
Console.WriteLine(string.Create(inv, $"# ok {ok}/{s1 - s0 + 1}, NMI min {nmis.Min():F3} median {nmis.Order().ElementAt(nmis.Count / 2):F3}, load {File.ReadAllText("/proc/loadavg")[..14]}"));
