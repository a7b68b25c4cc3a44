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
        var seed = GlobalOptions.Seed();
        var force = GlobalOptions.Force();
        var json = GlobalOptions.Json();
        var cmd = new Command("classifier", "Train the auxiliary noisy-image classifier of a run (NGMG or CE) for classifier guidance.")
        {
            run, objective, steps, batch, lr, width, output, seed, force, json,
        };
        cmd.SetAction(parse =>
        {
            var result = ClassifierStage.Train(new ClassifierRequest
            {
                Run = parse.GetValue(run)!, Objective = parse.GetValue(objective)!, Out = parse.GetValue(output)!, Force = parse.GetValue(force),
                Training = new AuxiliaryTrainingOptions { Steps = parse.GetValue(steps), Batch = parse.GetValue(batch), Lr = parse.GetValue(lr), Width = parse.GetValue(width), Seed = parse.GetValue(seed) },
            });
            var w = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
                w.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["out"] = result.Out, ["objective"] = result.Objective, ["k"] = result.K, ["final_loss"] = result.FinalLoss,
                    ["accuracy"] = result.Sigmas.Zip(result.Accuracy).ToDictionary(p => p.First.ToString(CultureInfo.InvariantCulture), p => p.Second),
                }));
            else
                w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"wrote {result.Out} ({result.Objective}, K {result.K}, final loss {result.FinalLoss:F4}); accuracy on noisy training images: {string.Join(", ", result.Sigmas.Zip(result.Accuracy).Select(p => $"sigma {p.First}: {p.Second:F3}"))}"));
            return 0;
        });
        return cmd;
    }
}
