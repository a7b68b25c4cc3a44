using System.Globalization;
using Cedm.Diffusion.Coherence;
using Cedm.Diffusion.Sampling;
using Cedm.Stages;

namespace Cedm.Pipeline.Study;

/// <summary>
/// The extra `cedm train` / `cedm sample` arguments of a study variant (<see cref="StudyVariant.Syntax"/>) applied to
/// the typed requests the study runs. The flags a variant may set are the ones that change what a model learns or
/// how it samples, listed in <see cref="TrainFlags"/> and <see cref="SampleFlags"/>; the rest (paths, budgets,
/// seeds) belong to the study and are refused.
/// </summary>
public static class VariantArguments
{
    public static readonly string[] TrainFlags =
        ["--coherence", "--coherence-mode", "--coherence-bins", "--coherence-quantiles", "--p-uncond", "--xflip", "--dropout", "--lr", "--batch", "--ema-kimg"];

    public static readonly string[] SampleFlags =
        ["--steps", "--solver", "--guidance", "--ca-guidance", "--ca-low", "--coherence", "--s-churn", "--s-min", "--s-max", "--s-noise", "--sigma-min", "--sigma-max", "--rho"];

    public static TrainRequest ApplyTrain(TrainRequest request, IReadOnlyList<string> args, string variant)
    {
        var t = request.Training;
        CoherenceOptions? c = request.Coherence;
        foreach (var (flag, value) in Pairs(args, TrainFlags, variant, "--xflip"))
        {
            switch (flag)
            {
                case "--coherence": c = (c ?? new CoherenceOptions()) with { Source = value! }; break;
                case "--coherence-mode": c = (c ?? new CoherenceOptions()) with { Mode = value! }; break;
                case "--coherence-bins": c = (c ?? new CoherenceOptions()) with { Bins = Int(value, flag, variant) }; break;
                case "--coherence-quantiles":
                    var q = value!.Split(',');
                    if (q.Length != 2) throw new ArgumentException($"variant {variant}: {flag} expects lo,hi, got '{value}'");
                    c = (c ?? new CoherenceOptions()) with { QuantileLow = Number(q[0], flag, variant), QuantileHigh = Number(q[1], flag, variant) };
                    break;
                case "--p-uncond": t = t with { PUncond = Number(value, flag, variant) }; break;
                case "--xflip": t = t with { XFlip = true }; break;
                case "--dropout": t = t with { Dropout = (float)Number(value, flag, variant) }; break;
                case "--lr": t = t with { Lr = Number(value, flag, variant) }; break;
                case "--batch": t = t with { Batch = Int(value, flag, variant) }; break;
                case "--ema-kimg": t = t with { EmaHalflifeKimg = Number(value, flag, variant) }; break;
            }
        }
        if (c is not null && string.IsNullOrEmpty(c.Source)) throw new ArgumentException($"variant {variant}: coherence settings need --coherence");
        return request with { Training = t, Coherence = c };
    }

    /// <summary>The sampler settings and the coherence c a variant samples with.</summary>
    public static (SamplerOptions Sampler, double? Coherence) ApplySample(SamplerOptions sampler, IReadOnlyList<string> args, string variant)
    {
        double? coherence = null;
        foreach (var (flag, value) in Pairs(args, SampleFlags, variant))
        {
            if (flag == "--solver")
            {
                sampler = sampler with { Solver = Solver(value, variant) };
                continue;
            }
            double v = Number(value, flag, variant);
            sampler = flag switch
            {
                "--guidance" => sampler with { Guidance = v },
                "--ca-guidance" => sampler with { CoherenceGuidance = v },
                "--ca-low" => sampler with { CoherenceLow = v },
                "--s-churn" => sampler with { SChurn = v },
                "--s-min" => sampler with { SMin = v },
                "--s-max" => sampler with { SMax = v },
                "--s-noise" => sampler with { SNoise = v },
                "--sigma-min" => sampler with { SigmaMin = v },
                "--sigma-max" => sampler with { SigmaMax = v },
                "--rho" => sampler with { Rho = v },
                "--steps" => sampler with { Steps = (int)v },
                _ => sampler,
            };
            if (flag == "--coherence") coherence = v;
        }
        return (sampler, coherence);
    }

    /// <summary>Checks that every argument is an allowed flag with a value (or a listed switch), and that the sample arguments' values parse.</summary>
    public static void Validate(StudyVariant v)
    {
        _ = Pairs(v.TrainArgs, TrainFlags, v.Name, "--xflip").ToList();
        _ = ApplySample(new SamplerOptions(), v.SampleArgs, v.Name);
    }

    private static IEnumerable<(string Flag, string? Value)> Pairs(IReadOnlyList<string> args, string[] allowed, string variant, params string[] switches)
    {
        for (int i = 0; i < args.Count; i++)
        {
            string flag = args[i];
            if (!allowed.Contains(flag))
                throw new ArgumentException($"variant {variant}: '{flag}' is not a flag a variant may set (allowed: {string.Join(", ", allowed)})");
            if (switches.Contains(flag)) { yield return (flag, null); continue; }
            if (i + 1 >= args.Count) throw new ArgumentException($"variant {variant}: {flag} needs a value");
            yield return (flag, args[++i]);
        }
    }

    private static double Number(string? text, string flag, string variant) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
            : throw new ArgumentException($"variant {variant}: {flag} expects a number, got '{text}'");

    private static SamplerSolver Solver(string? text, string variant) =>
        text is not null && SamplerSolvers.Names.Contains(text) ? SamplerSolvers.Parse(text)
            : throw new ArgumentException($"variant {variant}: --solver expects {string.Join(" or ", SamplerSolvers.Names)}, got '{text}'");

    private static int Int(string? text, string flag, string variant) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
            : throw new ArgumentException($"variant {variant}: {flag} expects an integer, got '{text}'");
}
