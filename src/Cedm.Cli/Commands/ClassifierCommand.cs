using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Cedm.Diffusion.FeatureConditioning;
using Cedm.Stages;

namespace Cedm.Cli.Commands;

/// <summary>
/// `cedm classifier &lt;run&gt; --objective ngmg|ce --out clf.safetensors` (docs/feature-conditioning.md): trains the
/// auxiliary noisy-image classifier of a conditional run (NGMG against a features:/gmm: run's mixture, or CE) and
/// prints its accuracy on the run's training images noised at several σ. `cedm sample --classifier` guides with it.
/// </summary>
public static class ClassifierCommand
{
    public static Command Build()
    {
        var run = new Argument<string>("run") { Description = "A conditional `cedm train` run folder (features:/gmm: for ngmg)." };
        var objective = new Option<string>("--objective") { Description = "ngmg (-log of the target component's density at the classifier's feature-space output; our interpretation of NGMG) or ce (softmax cross-entropy on K logits).", DefaultValueFactory = _ => AuxiliaryObjective.NgmgKind };
        objective.AcceptOnlyFromAmong(AuxiliaryObjective.NgmgKind, AuxiliaryObjective.CrossEntropyKind);
        var d = new AuxiliaryTrainingOptions();
        var steps = new Option<int>("--steps") { Description = "Adam steps.", DefaultValueFactory = _ => d.Steps };
        var batch = new Option<int>("--batch") { Description = "Noisy images per step (sigma from EDM's training distribution).", DefaultValueFactory = _ => d.Batch };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => d.Lr };
        var width = new Option<int>("--width") { Description = "Channels of the first convolution (then 2x).", DefaultValueFactory = _ => d.Width };
        var output = new Option<string>("--out") { Description = "The classifier .safetensors.", Required = true };
        var evalSource = new Option<string?>("--eval-source") { Description = "Held-out images (e.g. fashion-mnist:test) to measure the classifier on: accuracy and the mean guidance-gradient norm |grad_x L| at each sigma. Their classes: a label run's labels, or for a features:/gmm: run the mixture component of highest posterior at each image's own feature (--eval-features)." };
        var evalFeatures = new Option<string?>("--eval-features") { Description = "Features .npy of the --eval-source images from the run's extractor (features:/gmm: runs), e.g. `cedm features fashion-mnist:test --extractor pca:<the run's feats.pca.safetensors>`." };
        var overlapBelow = new Option<double>("--overlap-below") { Description = "features:/gmm: runs: a held-out image lies where the classes overlap when its component's posterior is below this; the gradient norm is reported over those images and over the rest.", DefaultValueFactory = _ => ClassifierRequest.DefaultOverlapBelow };
        var seed = GlobalOptions.Seed();
        var force = GlobalOptions.Force();
        var json = GlobalOptions.Json();
        var cmd = new Command("classifier", "Train the auxiliary noisy-image classifier of a run (NGMG or CE) for classifier guidance.")
        {
            run, objective, steps, batch, lr, width, output, evalSource, evalFeatures, overlapBelow, seed, force, json,
        };
        cmd.SetAction(parse =>
        {
            var result = ClassifierStage.Train(new ClassifierRequest
            {
                Run = parse.GetValue(run)!, Objective = parse.GetValue(objective)!, Out = parse.GetValue(output)!, Force = parse.GetValue(force),
                EvalSource = parse.GetValue(evalSource), EvalFeatures = parse.GetValue(evalFeatures), OverlapBelow = parse.GetValue(overlapBelow),
                Training = new AuxiliaryTrainingOptions { Steps = parse.GetValue(steps), Batch = parse.GetValue(batch), Lr = parse.GetValue(lr), Width = parse.GetValue(width), Seed = parse.GetValue(seed) },
            });
            var w = parse.InvocationConfiguration.Output;
            var h = result.HeldOut;
            if (parse.GetValue(json))
            {
                var doc = new Dictionary<string, object?>
                {
                    ["out"] = result.Out, ["objective"] = result.Objective, ["k"] = result.K, ["final_loss"] = result.FinalLoss,
                    ["accuracy"] = BySigma(result.Sigmas, result.Accuracy),
                };
                if (h != null)
                    doc["held_out"] = new Dictionary<string, object?>
                    {
                        ["source"] = parse.GetValue(evalSource), ["count"] = h.Count, ["overlap_count"] = h.Overlap,
                        ["accuracy"] = BySigma(h.Sigmas, h.Accuracy), ["grad_norm"] = BySigma(h.Sigmas, h.GradNorm),
                        ["grad_norm_overlap"] = BySigma(h.Sigmas, h.GradNormOverlap), ["grad_norm_separated"] = BySigma(h.Sigmas, h.GradNormSeparated),
                    };
                w.WriteLine(JsonSerializer.Serialize(doc));
            }
            else
            {
                w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"wrote {result.Out} ({result.Objective}, K {result.K}, final loss {result.FinalLoss:F4}); accuracy on noisy training images: {string.Join(", ", result.Sigmas.Zip(result.Accuracy).Select(p => $"sigma {p.First}: {p.Second:F3}"))}"));
                if (h != null)
                {
                    w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"held out ({parse.GetValue(evalSource)}, {h.Count} images, {h.Overlap} where the classes overlap):"));
                    for (int i = 0; i < h.Sigmas.Length; i++)
                        w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"  sigma {h.Sigmas[i]}: accuracy {h.Accuracy[i]:F3}, |grad_x L| {h.GradNorm[i]:G4} (overlap {h.GradNormOverlap[i]:G4}, separated {h.GradNormSeparated[i]:G4})"));
                }
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>σ → value, NaN (an empty subset) as null so the JSON stays standard.</summary>
    private static Dictionary<string, double?> BySigma(double[] sigmas, double[] values) =>
        sigmas.Zip(values).ToDictionary(p => p.First.ToString(CultureInfo.InvariantCulture), p => double.IsNaN(p.Second) ? null : (double?)p.Second);
}
