namespace Cedm.Pipeline.Study;

/// <summary>What the source offers the plan: its size (caps K) and its label count (0 when unlabelled).</summary>
public sealed record SourceFacts(int Images, int LabelCount);

/// <summary>
/// Which models the study trains: the unconditional one, the ground-truth-label one (when the source has labels)
/// and one per K around the upper bound, plus any extra variants. Pure functions of the options, K_UB and the
/// source's facts, so the plan is the same whenever a study is resumed.
/// </summary>
public static class StudyPlan
{
    /// <summary>
    /// The Ks of the cluster-conditioned models: --ks when given; else {K_UB/2 (when ≥ 2), K_UB, 2·K_UB, 4·K_UB} and the
    /// label count, without those above the cap min(KCap, N / MinImagesPerCluster). If the cap removed every K above
    /// K_UB, the cap itself is added: the figure needs at least one K past the bound to show what over-clustering does.
    /// </summary>
    public static IReadOnlyList<int> ChooseKs(StudyOptions o, int kub, SourceFacts source)
    {
        if (o.Ks is { } given) return given.Distinct().Order().ToList();
        kub = Math.Max(kub, 2);
        int cap = Math.Max(2, Math.Min(o.KCap, source.Images / Math.Max(1, o.MinImagesPerCluster)));
        if (o.KStart is int k0)
        {
            var doubling = new SortedSet<int> { kub };
            for (long k = k0; k <= 2L * kub; k *= 2) doubling.Add((int)k);
            var within = doubling.Where(k => k <= cap).ToList();
            return within.Count > 0 ? within : [cap];
        }
        var ks = new SortedSet<int> { kub, 2 * kub, 4 * kub };
        if (kub / 2 >= 2) ks.Add(kub / 2);
        if (source.LabelCount >= 2) ks.Add(source.LabelCount); // clusters as many as the classes, even without the label model
        var kept = ks.Where(k => k <= cap).ToList();
        if (!kept.Any(k => k > kub) && cap > kub) kept.Add(cap);
        if (kept.Count == 0) kept.Add(cap);
        return kept;
    }

    /// <summary>
    /// Every variant, in training order: uncond, labels (when the source has labels), k&lt;K&gt; ascending, the guidance
    /// variants at the best K (<see cref="GuidanceVariants"/>), then the extras. <paramref name="best"/> is the plain K
    /// with the lowest FD once every plain K is evaluated (null before: K_UB stands in, and nothing of the variants
    /// that use it has run yet, because they come after every plain one).
    /// </summary>
    public static IReadOnlyList<StudyVariant> Variants(StudyOptions o, int kub, SourceFacts source, int? best = null)
    {
        var list = new List<StudyVariant> { StudyVariant.Uncond() };
        if (o.Labels && source.LabelCount >= 2) list.Add(StudyVariant.Labels());
        var ks = ChooseKs(o, kub, source);
        list.AddRange(ks.Select(StudyVariant.Clusters));
        int bestOrBound = best ?? (ks.Contains(kub) ? kub : ks[0]);
        if (o.TrainingSeeds == 2)
        {
            list.AddRange(list.Where(v => v.Kind != VariantKind.Clusters).Select(v => v.SecondSeed()).ToList());
            list.Add(StudyVariant.Clusters(bestOrBound).SecondSeed("best-s1"));
        }
        if (o.CompareFeatures is { } other)
        {
            string set = StudyVariant.FeatureSetName(other);
            int k = ks.Contains(kub) ? kub : ks[0];
            list.Add(new StudyVariant($"{set}-{StudyVariant.ClusterName(k)}", VariantKind.Clusters, k, FeatureSet: set));
        }
        if (o.Guidance) list.AddRange(GuidanceVariants(o, bestOrBound));
        foreach (var spec in o.ExtraVariants)
        {
            var v = StudyVariant.Parse(spec, Math.Max(kub, 2), best);
            if (v.Kind == VariantKind.Labels && source.LabelCount < 2) throw new ArgumentException($"--variant {v.Name}: the source has no labels");
            if (list.Any(x => x.Name == v.Name)) throw new ArgumentException($"--variant: the name '{v.Name}' is taken");
            list.Add(v);
        }
        return list;
    }

    /// <summary>
    /// The guidance comparison at K (issue "CAD"): "cad" (coherence-aware conditioning, sampled at coherence 1),
    /// "cad-ca&lt;ω&gt;" (the same model with coherence-aware guidance ω), "cfg-w&lt;w&gt;" (a model trained with condition
    /// dropout, sampled with classifier-free guidance w; the first trains, the others reuse it). The plain C-EDM model
    /// at the same K is k&lt;K&gt;.
    /// </summary>
    public static IEnumerable<StudyVariant> GuidanceVariants(StudyOptions o, int k)
    {
        string[] coherence = ["--coherence", o.Coherence];
        yield return new StudyVariant("cad", VariantKind.Clusters, k, coherence);
        foreach (double w in o.CaGuidance)
            yield return new StudyVariant("cad-ca" + Pipeline.CommandLines.D(w), VariantKind.Clusters, k, coherence,
                ["--ca-guidance", Pipeline.CommandLines.D(w)], TrainingOf: "cad");
        string? cfgOwner = null;
        foreach (double w in o.CfgGuidance)
        {
            string name = "cfg-w" + Pipeline.CommandLines.D(w);
            yield return new StudyVariant(name, VariantKind.Clusters, k, ["--p-uncond", Pipeline.CommandLines.D(o.PUncond)],
                ["--guidance", Pipeline.CommandLines.D(w)], TrainingOf: cfgOwner);
            cfgOwner ??= name;
        }
    }

    /// <summary>The Ks that need a clustering (every clusters variant's K, once).</summary>
    public static IReadOnlyList<int> ClusterKs(IEnumerable<StudyVariant> variants) =>
        variants.Where(v => v.Kind == VariantKind.Clusters && v.FeatureSet is null).Select(v => v.K!.Value).Distinct().Order().ToList();

    /// <summary>The (feature set, K) clusterings on other features (the feature comparison), once each.</summary>
    public static IReadOnlyList<(string Set, int K)> OtherFeatureClusterings(IEnumerable<StudyVariant> variants) =>
        variants.Where(v => v.Kind == VariantKind.Clusters && v.FeatureSet is not null).Select(v => (v.FeatureSet!, v.K!.Value)).Distinct().ToList();

    /// <summary>The plain cluster-conditioned variant with the lowest FD (ties: the smaller K), or null when none was evaluated.</summary>
    public static StudyVariant? BestK(IEnumerable<(StudyVariant Variant, double Fd)> evaluated) =>
        evaluated.Where(e => e.Variant.Kind == VariantKind.Clusters && e.Variant.IsPlain && double.IsFinite(e.Fd))
            .OrderBy(e => e.Fd).ThenBy(e => e.Variant.K).Select(e => e.Variant).FirstOrDefault();

    /// <summary>Training-image targets of the sample-efficiency points: Kimg·i/n for i = 1..n, in images.</summary>
    public static IReadOnlyList<long> SeriesTargets(StudyOptions o) =>
        Enumerable.Range(1, o.SeriesPoints).Select(i => (long)Math.Round(o.Kimg * 1000 * i / o.SeriesPoints)).ToList();

    /// <summary>
    /// Rough cost model for the progress weights and the documented budget, in seconds on 2 cores with the tiny
    /// preset: ~40 training img/s (`cedm run` reaches 22 kimg in 9 minutes), ~2.5 sampled img/s at 18 Heun steps (35 network evaluations; fewer evaluations
    /// cost proportionally less, e.g. dpm2m's N per image), ~60 s per TEMI clustering and ~4 min of bound search at the default settings.
    /// </summary>
    public static class Cost
    {
        public const double TrainImagesPerSecond = 40, SampleImagesPerSecondAt18Steps = 2.5;

        public static double Train(StudyOptions o) => o.Kimg * 1000 / TrainImagesPerSecond;

        public static double Sample(StudyOptions o) => o.EvalSamples / SampleImagesPerSecondAt18Steps * Diffusion.Sampling.SamplerSolvers.Evaluations(o.SamplerSolver, o.SamplerSteps) / 35.0;

        public static double Eval(StudyOptions o) => o.Quick ? 5 : 15;

        public static double Cluster(StudyOptions o) => o.Quick ? 10 : 60;

        public static double Bound(StudyOptions o) => o.Quick ? 20 : 240;

        public static double Features(StudyOptions o) => o.Quick ? 5 : 20;

        /// <summary>The whole study: features, bound, one clustering per K, every variant, the extra series points of two models.</summary>
        public static double Total(StudyOptions o, int variants, int clusterings) =>
            Features(o) + Bound(o) + clusterings * Cluster(o) + variants * (Train(o) + Sample(o) + Eval(o))
            + 2 * (o.SeriesPoints - 1) * (Sample(o) + Eval(o));
    }
}
