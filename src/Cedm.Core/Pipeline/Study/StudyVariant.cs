using System.Globalization;
using System.Text.RegularExpressions;

namespace Cedm.Pipeline.Study;

/// <summary>What a variant conditions on: nothing, the source's labels, or a clustering with K clusters.</summary>
public enum VariantKind { Uncond, Labels, Clusters }

/// <summary>
/// One model of the study: trained with `cedm train --cond none|labels|clusters:&lt;dir&gt;/clusters/k&lt;K&gt;` plus
/// <see cref="TrainArguments"/>, sampled with `cedm sample` plus <see cref="SampleArguments"/>, evaluated with the
/// same `cedm eval` as every other variant, in its own folder variants/&lt;Name&gt;/. A new kind of model (classifier-
/// free guidance: train <c>--p-uncond 0.1</c>, sample <c>--guidance 1</c>; coherence-aware conditioning) is one more
/// record — from code or from <c>--variant</c> (see <see cref="Parse"/>). A variant that differs from another only
/// in how it samples (guidance scales) names that one in <see cref="TrainingOf"/> and reuses its trained model.
/// </summary>
/// <param name="SeedOffset">Added to the study's seed for training (a second run of the same model).</param>
/// <param name="FeatureSet">The folder name of other features whose clusters it conditions on (the feature comparison); null = the study's.</param>
public sealed partial record StudyVariant(string Name, VariantKind Kind, int? K = null, IReadOnlyList<string>? TrainArguments = null,
    IReadOnlyList<string>? SampleArguments = null, string? TrainingOf = null, int SeedOffset = 0, string? FeatureSet = null)
{
    public IReadOnlyList<string> TrainArgs => TrainArguments ?? [];

    public IReadOnlyList<string> SampleArgs => SampleArguments ?? [];

    /// <summary>A plain model of its kind (no extra arguments): the ones the K sweep and "best K" are about.</summary>
    public bool IsPlain => TrainArgs.Count == 0 && SampleArgs.Count == 0 && SeedOffset == 0 && FeatureSet is null;

    /// <summary>The same model trained again with seed + 1 (named &lt;name&gt;-s1, or <paramref name="name"/>).</summary>
    public StudyVariant SecondSeed(string? name = null) => this with { Name = name ?? Name + "-s1", SeedOffset = 1 };

    /// <summary>The training seed offset a variant's name carries (&lt;name&gt;-s&lt;n&gt;, <see cref="SecondSeed"/>), else null.</summary>
    public static int? SeedOffsetOf(string name)
    {
        int dash = name.LastIndexOf("-s", StringComparison.Ordinal);
        return dash > 0 && int.TryParse(name.AsSpan(dash + 2), NumberStyles.None, CultureInfo.InvariantCulture, out int seed)
            ? seed : null;
    }

    /// <summary>"pca:64" → "pca64": a folder-safe name for an extractor spec.</summary>
    public static string FeatureSetName(string spec) => new(spec.Where(char.IsLetterOrDigit).ToArray());

    public static StudyVariant Uncond() => new("uncond", VariantKind.Uncond);

    public static StudyVariant Labels() => new("labels", VariantKind.Labels);

    public static StudyVariant Clusters(int k) => new(ClusterName(k), VariantKind.Clusters, k);

    public static string ClusterName(int k) => "k" + k.ToString(CultureInfo.InvariantCulture);

    /// <summary>Folder of the variant inside the study folder.</summary>
    public string Folder => Path.Combine("variants", Name);

    /// <summary>Folder of the trained model this variant samples from (its own, or that of <see cref="TrainingOf"/>).</summary>
    public string TrainFolder => Path.Combine("variants", TrainingOf ?? Name, "train");

    public void Validate()
    {
        if (!NamePattern().IsMatch(Name)) throw new ArgumentException($"--variant: the name '{Name}' must be letters, digits, '-', '_' or '.' (it is a folder name)");
        if (Kind == VariantKind.Clusters && K is not >= 2) throw new ArgumentException($"--variant {Name}: a clusters variant needs K ≥ 2, got {K}");
        if (Kind != VariantKind.Clusters && K is not null) throw new ArgumentException($"--variant {Name}: only a clusters variant has a K");
        VariantArguments.Validate(this);
    }

    public const string Syntax = "NAME=uncond|labels|clusters@K[|TRAIN ARGS[|SAMPLE ARGS]] with K a number, kub, 2kub, kub/2 or best (the plain K with the lowest FD) (e.g. \"cfg=clusters@best|--p-uncond 0.1|--guidance 1\")";

    /// <summary>
    /// Parses <see cref="Syntax"/>: the name, the kind with its K (relative to K_UB with "kub": <paramref name="kub"/>
    /// is the bound once known, 0 before; "best" is <paramref name="best"/>, the plain K with the lowest FD once every
    /// plain K is evaluated, K_UB before), then extra `cedm train` and `cedm sample` arguments split at spaces.
    /// </summary>
    public static StudyVariant Parse(string spec, int kub = 0, int? best = null)
    {
        var parts = spec.Split('|');
        if (parts.Length > 3) throw new ArgumentException($"--variant: at most two '|' in '{spec}'; expected {Syntax}");
        int eq = parts[0].IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0) throw new ArgumentException($"--variant: expected {Syntax}, got '{spec}'");
        string name = parts[0][..eq].Trim(), kindText = parts[0][(eq + 1)..].Trim();
        int? k = null;
        int at = kindText.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            k = ParseK(kindText[(at + 1)..], kub, best ?? kub, spec);
            kindText = kindText[..at];
        }
        var kind = kindText switch
        {
            "uncond" => VariantKind.Uncond,
            "labels" => VariantKind.Labels,
            "clusters" => VariantKind.Clusters,
            _ => throw new ArgumentException($"--variant: unknown kind '{kindText}' in '{spec}'; expected uncond, labels or clusters@K"),
        };
        string[] Args(int i) => parts.Length > i ? parts[i].Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
        var v = new StudyVariant(name, kind, k, Args(1), Args(2));
        // Before the bound search K_UB is unknown (0): a relative K is a placeholder then, checked once K_UB is known.
        if (kub > 0 || kind != VariantKind.Clusters || k > 0) v.Validate();
        else (v with { K = 2 }).Validate();
        return v;
    }

    private static int ParseK(string text, int kub, int best, string spec)
    {
        text = text.Trim();
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int k)) return k;
        if (text == "best") return best;
        var m = Regex.Match(text, @"^(\d*)kub(?:/(\d+))?$");
        if (!m.Success) throw new ArgumentException($"--variant: K must be a number, kub, 2kub, kub/2 or best; got '{text}' in '{spec}'");
        int mul = m.Groups[1].Value.Length > 0 ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 1;
        int div = m.Groups[2].Success ? int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : 1;
        if (div == 0) throw new ArgumentException($"--variant: division by zero in '{spec}'");
        return kub * mul / div;
    }

    [GeneratedRegex("^[A-Za-z0-9_.-]+$")]
    private static partial Regex NamePattern();
}
