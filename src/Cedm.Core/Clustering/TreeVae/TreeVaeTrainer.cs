using Cedm.Nn.Optim;
using Cedm.Tensors;

namespace Cedm.Clustering.TreeVae;

/// <summary>One training phase as run: its name, epochs, rows, seconds and the last epoch's mean loss and terms.</summary>
public sealed record TreeVaePhase(string Name, int Epochs, int Rows, double Seconds, double Loss, double Reconstruction, double Kl);

/// <summary>What a TreeVAE fit produced: the final model and the history of its phases and growth decisions.</summary>
public sealed record TreeVaeTrainingResult(TreeVaeModel Model, IReadOnlyList<TreeVaePhase> Phases, IReadOnlyList<string> Growth);

/// <summary>
/// Trains a TreeVAE the way related-seeds A.4 grows it: the two-leaf tree for <see cref="TreeVaeOptions.InitialEpochs"/>;
/// then, until enough leaves hold mass, split the leaf with the most assigned samples and train only its new subtree
/// on those samples with the rest frozen (every third growth the whole tree is fine-tuned); prune leaves holding under
/// 1 % of the samples; fine-tune the whole tree. Adam (lr 1e-3, weight decay 1e-5, A.3), KL annealing restarted per phase.
/// </summary>
public sealed class TreeVaeTrainer(TreeVaeOptions options)
{
    public TreeVaeOptions Options { get; } = options ?? throw new ArgumentNullException(nameof(options));

    /// <summary>[C, H, W] of the flattened inputs (CNN-TreeVAE needs it).</summary>
    public int[]? ImageShape { get; init; }

    /// <param name="x">Inputs [N, D] (in [0, 1] for a Bernoulli model).</param>
    public TreeVaeTrainingResult Train(Tensor x, Rng rng, IProgress<double>? progress = null, Action<string>? log = null)
    {
        Options.Validate();
        if (x.Rank != 2) throw new ArgumentException($"TreeVAE inputs must be [N, D], got {Shapes.Format(x.Shape)}.");
        int n = x.Dim(0);
        if (n < 2) throw new ArgumentException($"TreeVAE needs at least 2 inputs, got {n}.");
        var phases = new List<TreeVaePhase>();
        var growth = new List<string>();
        var budget = new WorkBudget(Options, progress);
        var all = Enumerable.Range(0, n).ToArray();
        var model = new TreeVaeModel(TreeShape.TwoLeaves(), Options, x.Dim(1), rng, ImageShape);

        phases.Add(RunPhase("initial", model, x, all, Options.InitialEpochs, null, Options.KlDecay, rng, budget));
        for (int step = 0; step < Options.MaxGrowth; step++)
        {
            var probs = model.LeafProbabilities(x);
            var choice = TreeGrowth.ChooseLeaf(model.Shape, probs, n, Options.MaxLeaves, Options.Levels - 1, MinSplitSamples(n), Options.MinLeafFraction);
            growth.Add(choice.Reason);
            log?.Invoke(choice.Reason);
            if (choice.Leaf < 0) break;
            int leafIndex = Array.IndexOf(model.Leaves, choice.Leaf);
            double threshold = Math.Min(1.0 / Math.Max(1, choice.Effective), 0.5);
            var subset = all.Where(i => probs[(long)i * model.Leaves.Length + leafIndex] >= threshold).ToArray();

            var edit = TreeGrowth.Split(model.Shape, choice.Leaf);
            model = model.WithShape(edit.Shape, edit.OldNodeOf, rng);
            var active = new bool[edit.Shape.Nodes];
            active[choice.Leaf] = active[^1] = active[^2] = true;
            phases.Add(RunSubtree(model, x, subset, choice.Leaf, active, rng, budget));
            if (Options.IntermediateEpochs > 0 && (step + 1) % Options.IntermediateEvery == 0)
                phases.Add(RunPhase($"fine-tune {step + 1}", model, x, all, Options.IntermediateEpochs, null, Options.KlDecay, rng, budget));
        }
        model = Prune(model, x, rng, growth, log);
        if (Options.FinalEpochs > 0)
            phases.Add(RunPhase("final", model, x, all, Options.FinalEpochs, null, TreeElbo.FinetuneDecay(Options.FinalEpochs), rng, budget));
        model.SetTraining(false);
        progress?.Report(1);
        return new TreeVaeTrainingResult(model, phases, growth);
    }

    /// <summary>
    /// A.4 skips leaves holding fewer samples than one batch (256); on data too small for K leaves of that size the
    /// bar drops to N/(2K), so a few hundred images can still grow K leaves (a small-data guard, like TEMI's).
    /// </summary>
    public int MinSplitSamples(int n) => Math.Min(Options.BatchSize, Math.Max(2, n / (2 * Options.MaxLeaves)));

    /// <summary>A.4 step 3: drop the leaf with the fewest argmax samples while it holds under the minimum share.</summary>
    private TreeVaeModel Prune(TreeVaeModel model, Tensor x, Rng rng, List<string> growth, Action<string>? log)
    {
        while (model.Leaves.Length > 1)
        {
            int k = model.Leaves.Length;
            var counts = LeafCounts(Temi.TemiModel.ArgMax(model.LeafProbabilities(x), x.Dim(0), k).Ids, k);
            int leaf = TreeGrowth.SmallestLeafBelow(model.Shape, counts, Options.MinLeafFraction);
            if (leaf < 0) break;
            string reason = $"pruned leaf {leaf} ({counts[Array.IndexOf(model.Leaves, leaf)]} samples)";
            growth.Add(reason);
            log?.Invoke(reason);
            var edit = TreeGrowth.RemoveLeaf(model.Shape, leaf);
            model = model.WithShape(edit.Shape, edit.OldNodeOf, rng);
        }
        return model;
    }

    /// <summary>Samples per leaf, from each sample's leaf id (argmax P(l|x), as the clustering's ids).</summary>
    public static int[] LeafCounts(int[] ids, int k)
    {
        var counts = new int[k];
        foreach (int id in ids) counts[id]++;
        return counts;
    }

    /// <summary>A new subtree's phase: only its nodes learn (and run in training mode); the frozen tree's batch
    /// statistics stay fixed (A.4: "the full tree frozen and run without gradient").</summary>
    private TreeVaePhase RunSubtree(TreeVaeModel model, Tensor x, int[] rows, int leaf, bool[] active, Rng rng, WorkBudget budget)
    {
        model.SetTraining(false);
        model.SetRequiresGrad(false);
        var newNodes = model.Shape.Children[leaf];
        foreach (int c in newNodes)
        {
            model.Node(c).SetTraining(true);
            model.Node(c).SetRequiresGrad(true);
        }
        // The split leaf's routers are new too (it was a leaf): they learn with the children.
        foreach (var router in new Cedm.Nn.Module?[] { model.Node(leaf).PRouter, model.Node(leaf).QRouter })
        {
            router!.SetTraining(true);
            router.SetRequiresGrad(true);
        }
        try
        {
            return RunPhase($"subtree {leaf}", model, x, rows, Options.SubtreeEpochs, active, Options.KlDecay, rng, budget, setMode: false);
        }
        finally
        {
            model.SetRequiresGrad(true);
            model.SetTraining(true);
        }
    }

    private TreeVaePhase RunPhase(string name, TreeVaeModel model, Tensor x, int[] rows, int epochs, bool[]? active, float decay, Rng rng,
        WorkBudget budget, bool setMode = true)
    {
        if (setMode) model.SetTraining(true);
        var parameters = model.Parameters().Where(p => p.RequiresGrad).ToArray();
        var optimizer = new Adam(parameters, new AdamOptions(Lr: Options.Lr, WeightDecay: Options.WeightDecay));
        int batch = Math.Min(Options.BatchSize, rows.Length);
        int iters = Math.Max(1, rows.Length / batch);                       // drop_last, as a PyTorch loader would
        var order = rows.ToArray();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        double loss = 0, rec = 0, kl = 0;
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            float alpha = TreeElbo.AnnealingWeight(epoch, Options.KlStart, decay);
            Shuffle(order, rng);
            loss = rec = kl = 0;
            for (int it = 0; it < iters; it++)
            {
                var batchRows = order.AsSpan(it * batch, batch).ToArray();
                float recValue = 0, klValue = 0;
                optimizer.ZeroGrad();
                // Through the training pass's arena: a step's temporaries are recycled, not left to the GC (TensorArena).
                double value = Cedm.Nn.TrainingPass.Run(() =>
                {
                    var terms = model.Forward(x.IndexSelect(batchRows), rng, active).Terms;
                    recValue = terms.Reconstruction.Data[0];
                    klValue = terms.KlRoot.Data[0] + terms.KlNodes.Data[0] + terms.KlDecisions.Data[0];
                    return terms.Loss(alpha);
                }, parameters, v =>
                {
                    if (!double.IsFinite(v))
                        throw new InvalidOperationException($"TreeVAE diverged: the loss of phase '{name}' became {v} in epoch {epoch + 1} (reconstruction {recValue}, KL {klValue})");
                });
                optimizer.Step();
                loss += value;
                rec += recValue;
                kl += klValue;
                budget.Advance((double)batch / rows.Length);
            }
        }
        return new TreeVaePhase(name, epochs, rows.Length, clock.Elapsed.TotalSeconds, loss / iters, rec / iters, kl / iters);
    }

    private static void Shuffle(int[] a, Rng rng)
    {
        for (int i = a.Length - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (a[i], a[j]) = (a[j], a[i]);
        }
    }

    /// <summary>
    /// Progress over the planned epochs, each weighted by its share of the data: the initial and final phases and the
    /// fine-tunes see every sample, a subtree about 2/K of them (its leaf's share) — an estimate, capped below 1.
    /// </summary>
    private sealed class WorkBudget(TreeVaeOptions o, IProgress<double>? progress)
    {
        private readonly double _total = o.InitialEpochs + o.FinalEpochs
            + Math.Max(0, o.MaxLeaves - 2) * (o.SubtreeEpochs * 2.0 / Math.Max(2, o.MaxLeaves) + (double)o.IntermediateEpochs / o.IntermediateEvery);
        private double _done;

        public void Advance(double epochs)
        {
            _done += epochs;
            progress?.Report(Math.Min(0.99, _done / _total));
        }
    }
}
