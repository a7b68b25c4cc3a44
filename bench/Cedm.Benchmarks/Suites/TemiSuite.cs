using Cedm.Benchmarks.Harness;
using Cedm.Clustering;
using Cedm.Clustering.Temi;
using Cedm.IO;
using Cedm.Tensors;

namespace Cedm.Benchmarks.Suites;

/// <summary>
/// One TEMI training epoch on 60 000 × 512 features (100 Gaussian clusters, <see cref="GaussianBlobs"/> seed 0: random
/// but clustered, the size of ResNet-18 features of Fashion-MNIST's train split), K = 100, at the preset `cedm cluster`
/// uses by default (<see cref="TemiOptions.CpuDefault"/>: 8 heads 64/32, batch 1 024, 58 steps an epoch). Each timed call
/// is a fresh one-epoch run (heads built, one shuffled pass of pairs, AdamW and teacher EMA every step). The partner pool
/// is 50 random members of each row's own blob (the kNN graph of well-separated blobs, without the one-off 3.7-TFLOP
/// cosine search, which is not part of an epoch), written beside the features so the peer draws from the same pools.
/// Peer: bench/peers/temi.py, a PyTorch TEMI written from spec §4 with the same preset.
/// </summary>
public sealed class TemiSuite : IBenchSuite
{
    public const int N = 60000, D = 512, K = 100;

    public string Name => "temi";
    public string Description => "TEMI: one training epoch on 60k x 512 clustered features, K=100, default (cpu) preset, vs a PyTorch TEMI from the spec";
    public string? PeerScript => "temi.py";

    public IReadOnlyList<BenchCase> Cases { get; } =
    [
        new BenchCase("temi-epoch-60k-512-k100", "temi-epoch-60k-512-k100", null, () =>
        {
            var (x, nn) = Prepare();
            var options = TemiOptions.CpuDefault() with { Epochs = 1, WarmupEpochs = 0 };
            return () => new TemiTrainer(options).Train(x, nn, K, new Rng(0));
        }, Items: N),
    ];

    private static string Dir => Path.Combine(Environment.GetEnvironmentVariable("TMPDIR") ?? "/tmp", "cedm-bench-temi");

    /// <summary>Features and partner pools, written to <see cref="Dir"/> for the peer (kept between invocations).</summary>
    private static (Tensor X, int[,] Neighbours) Prepare()
    {
        Directory.CreateDirectory(Dir);
        string feats = Path.Combine(Dir, "feats-60k-512.npy"), knn = Path.Combine(Dir, "knn50-60k-512.npy");
        var (x, labels) = GaussianBlobs.Generate(N, K, D, new Rng(0));
        if (!File.Exists(feats)) Npy.Write(feats, x.Data, [N, D]);
        var members = Enumerable.Range(0, K).Select(_ => new List<int>()).ToArray();
        for (int i = 0; i < N; i++) members[labels[i]].Add(i);
        var rng = new Rng(1);
        var nn = new int[N, 50];
        var flat = new long[N * 50];
        for (int i = 0; i < N; i++)
        {
            var pool = members[labels[i]];
            for (int j = 0; j < 50; j++)
            {
                int p;
                do p = pool[rng.NextInt(pool.Count)]; while (p == i);
                nn[i, j] = p; flat[i * 50 + j] = p;
            }
        }
        if (!File.Exists(knn)) Npy.Write(knn, flat, [N, 50]);
        return (x, nn);
    }
}
