using Cedm.Tensors;

namespace Cedm.Clustering.TreeVae;

/// <summary>The TreeVAE loss terms of one batch, each the batch mean (related-seeds A.3), and the reach probabilities.</summary>
/// <param name="Reach">P(i | x) of every node, [N] each (from the q-routers); null where it was not computed.</param>
public sealed record TreeElboTerms(Tensor Reconstruction, Tensor KlRoot, Tensor KlNodes, Tensor KlDecisions, Tensor?[] Reach)
{
    /// <summary>L_rec + α·(KL_root + KL_nodes + KL_decisions), the negative ELBO with KL annealing weight α.</summary>
    public Tensor Loss(float alpha) => Reconstruction + (KlRoot + KlNodes + KlDecisions) * alpha;
}

/// <summary>
/// Assembles TreeVAE's negative ELBO (related-seeds A.3) from per-node quantities of a batch of N images:
/// L_rec = Σ_l P(l)·ℓ_l, KL_root, KL_nodes = Σ_{i≠0} P(i)·clamp(KL_i, −1, 1000), KL_decisions = Σ_{routers} P(i)·KL_Bern(q_i ‖ p_i),
/// where P is the product of q-router decisions along the path (q = probability of going left).
/// </summary>
public static class TreeElbo
{
    /// <summary>TreeVAE's per-sample node-KL clamp (A.3).</summary>
    public const float KlMin = -1f, KlMax = 1000f;

    /// <param name="reconstruction">ℓ(x, dec_l(z_l)) per image [N], indexed by leaf node.</param>
    /// <param name="rootKl">KL(q(z_0|x) ‖ N(0, I)) per image [N] (summed over latent dimensions); may be null when the root is not active.</param>
    /// <param name="nodeKl">KL(q(z_i|z_pa) ‖ p(z_i|z_pa)) per image [N] for every non-root node (index 0 unused).</param>
    /// <param name="qRouter">q(c_i = left | x) [N] of every router node (others unused).</param>
    /// <param name="pRouter">p(c_i = left | z_i) [N] of every router node, at the posterior sample.</param>
    /// <param name="active">
    /// The nodes whose terms count (null = all): a new subtree trained under a frozen tree (A.4 step 2) counts only its
    /// two children (KL and reconstruction) and its parent's decision, each weighted by the reach the frozen routers give.
    /// Inputs of inactive nodes may be null; a node's reach is known when its parent's is and the parent's q is given.
    /// </param>
    public static TreeElboTerms Compute(TreeShape tree, IReadOnlyList<Tensor?> reconstruction, Tensor? rootKl,
        IReadOnlyList<Tensor?> nodeKl, IReadOnlyList<Tensor?> qRouter, IReadOnlyList<Tensor?> pRouter, IReadOnlyList<bool>? active = null)
    {
        ArgumentNullException.ThrowIfNull(tree);
        foreach (var (list, name) in new[] { (reconstruction, nameof(reconstruction)), (nodeKl, nameof(nodeKl)), (qRouter, nameof(qRouter)), (pRouter, nameof(pRouter)) })
            if (list is null || list.Count != tree.Nodes) throw new ArgumentException($"one entry per node ({tree.Nodes})", name);
        if (active != null && active.Count != tree.Nodes) throw new ArgumentException($"one entry per node ({tree.Nodes})", nameof(active));
        bool Active(int i) => active == null || active[i];
        if (Active(0) && rootKl is null) throw new ArgumentNullException(nameof(rootKl), "the root is active");
        int n = rootKl?.Dim(0) ?? FirstBatch(reconstruction, nodeKl, qRouter);
        var reach = tree.Reach(Tensor.Ones(n), i => qRouter[i]);
        Tensor rec = Tensor.Zeros(n), klNodes = Tensor.Zeros(n), klDecisions = Tensor.Zeros(n);
        for (int i = 0; i < tree.Nodes; i++)
        {
            if (!Active(i)) continue;
            var here = reach[i] ?? throw new ArgumentException($"node {i} is active but its reach is unknown (a router above it has no q decision)", nameof(qRouter));
            if (i > 0)
            {
                var kl = nodeKl[i] ?? throw new ArgumentException($"node {i} has no KL", nameof(nodeKl));
                klNodes = klNodes + here * kl.Clamp(KlMin, KlMax);
            }
            if (tree.IsLeaf(i))
                rec = rec + here * (reconstruction[i] ?? throw new ArgumentException($"leaf {i} has no reconstruction loss", nameof(reconstruction)));
            else if (tree.IsRouter(i))
            {
                var q = qRouter[i] ?? throw new ArgumentException($"router {i} has no q decision", nameof(qRouter));
                var p = pRouter[i] ?? throw new ArgumentException($"router {i} has no p decision", nameof(pRouter));
                klDecisions = klDecisions + here * Tensor.BernoulliKl(q, p);
            }
        }
        var rootTerm = Active(0) ? rootKl!.Mean() : Tensor.Scalar(0f);
        return new TreeElboTerms(rec.Mean(), rootTerm, klNodes.Mean(), klDecisions.Mean(), reach);
    }

    private static int FirstBatch(params IReadOnlyList<Tensor?>[] lists)
    {
        foreach (var list in lists)
            foreach (var t in list)
                if (t != null) return t.Dim(0);
        throw new ArgumentException("no per-image term given");
    }

    /// <summary>KL annealing weight α = min(1, start + (epoch + 1)·decay), restarted every training phase (A.3).</summary>
    public static float AnnealingWeight(int epoch, float start, float decay) => MathF.Min(1f, start + (epoch + 1) * decay);

    /// <summary>The final fine-tune's decay, max(0.01, 1/(N_f − 1)) (A.4 step 4).</summary>
    public static float FinetuneDecay(int epochs) => epochs > 1 ? MathF.Max(0.01f, 1f / (epochs - 1)) : 1f;
}
