using System.CommandLine;
using Cedm.IO;
using Cedm.Stages;
using Cedm.Tensors;

namespace Cedm.Cli.Commands;

/// <summary>
/// `cedm denoise &lt;run&gt; --x x.npy --sigma S --out d.npy`: one evaluation of a trained run's denoiser
/// D(x; σ, labels) with its EMA weights, for checking it against another implementation (docs/interop.md:
/// tools/edm_interop.py feeds the same x, σ and labels to NVlabs/edm's EDMPrecond). Not a sampling command.
/// </summary>
public static class DenoiseCommand
{
    public static Command Build()
    {
        var run = new Argument<string>("run") { Description = "A `cedm train` run folder." };
        var x = new Option<string>("--x") { Description = "Noisy images: float32 .npy [N, C, H, W] (EDM's layout, pixel scale [-1, 1] plus noise).", Required = true };
        var sigma = new Option<double>("--sigma") { Description = "Noise level σ shared by the batch.", Required = true };
        var labels = new Option<string?>("--labels") { Description = "Class labels: float32 .npy [N, K] one-hot in the run's condition order (EDM's class_labels); default none (all-zero rows for a conditional net)." };
        var output = new Option<string>("--out") { Description = "D(x; σ, labels): float32 .npy [N, C, H, W].", Required = true };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "A checkpoint file of the run instead of the latest." };
        var force = GlobalOptions.Force();
        var cmd = new Command("denoise", "One denoiser evaluation D(x; σ, labels) of a trained run (EMA weights), for interop checks.")
        {
            run, x, sigma, labels, output, checkpoint, force,
        };
        cmd.SetAction(parse =>
        {
            string outPath = parse.GetValue(output)!;
            OutputExistsException.ThrowIfAnyExists(parse.GetValue(force), outPath);
            double s = parse.GetValue(sigma);
            if (!(s > 0) || double.IsInfinity(s)) throw new UsageException($"--sigma must be positive and finite, got {s}");
            var generator = Generator.Load(parse.GetValue(run)!, parse.GetValue(checkpoint));
            var xa = Npy.Read(parse.GetValue(x)!);
            if (xa.Shape.Length != 4) throw new InvalidDataException($"{parse.GetValue(x)}: expected [N, C, H, W], got ({string.Join(", ", xa.Shape)})");
            Tensor? labelTensor = null;
            if (parse.GetValue(labels) is { } labelsPath)
            {
                var la = Npy.Read(labelsPath);
                if (la.Shape.Length != 2 || la.Shape[0] != xa.Shape[0] || la.Shape[1] != generator.Net.LabelDim)
                    throw new InvalidDataException($"{labelsPath}: expected [{xa.Shape[0]}, {generator.Net.LabelDim}], got ({string.Join(", ", la.Shape)})");
                labelTensor = Tensor.FromArray(la.ToFloat32(), la.Shape);
            }
            var xt = Tensor.FromArray(xa.ToFloat32(), xa.Shape);
            using var noGrad = Cedm.Tensors.Autograd.GradMode.NoGrad();
            var d = generator.Net.Denoise(xt, Tensor.FromArray([(float)s], 1), labelTensor, null, null, null);
            int[] shape = d.ShapeArray();
            Npy.Write(outPath, d.Data.AsSpan(0, d.Size).ToArray(), shape);
            parse.InvocationConfiguration.Output.WriteLine($"wrote {outPath} ({string.Join("x", shape)}) from {generator.Checkpoint}");
            return 0;
        });
        return cmd;
    }
}
