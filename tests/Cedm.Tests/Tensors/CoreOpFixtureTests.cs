using Cedm.Tensors;
using Cedm.Tests.TestUtilities;

namespace Cedm.Tests.Tensors;

/// <summary>
/// Replays the PyTorch golden fixtures of tools/fixtures/make_core_fixtures.py: same inputs, our forward and
/// our gradients of sum(out ⊙ gout) against torch's.
/// </summary>
public class CoreOpFixtureTests
{
    /// <summary>float32 ops computed in a different order than torch: a few ulps of the operands' scale.</summary>
    private const double Atol = 2e-5, Rtol = 1e-4;

    private static readonly Dictionary<string, Func<Tensor[], Tensor>> Cases = new()
    {
        ["add_per_channel"] = t => t[0] + t[1],
        ["sub_per_sample"] = t => t[0] - t[1],
        ["mul_last_axis"] = t => t[0] * t[1],
        ["div_column"] = t => t[0] / t[1],
        ["scalar_ops"] = t => (t[0] * 3f + 2f) / 4f - 1f,
        ["exp"] = t => t[0].Exp(),
        ["log"] = t => t[0].Log(),
        ["sqrt"] = t => t[0].Sqrt(),
        ["relu"] = t => t[0].Relu(),
        ["sigmoid"] = t => t[0].Sigmoid(),
        ["tanh"] = t => t[0].Tanh(),
        ["silu"] = t => t[0].Silu(),
        ["gelu"] = t => t[0].Gelu(),
        ["softplus"] = t => t[0].Softplus(),
        ["sum_axis1"] = t => t[0].Sum(1),
        ["mean_axes02_keep"] = t => t[0].Mean([0, 2], keepDim: true),
        ["matmul"] = t => Tensor.MatMul(t[0], t[1]),
        ["bmm_transposed_b"] = t => Tensor.MatMul(t[0], t[1], transB: true),
        ["linear"] = t => Tensor.Linear(t[0], t[1], t[2]),
        ["softmax_axis1"] = t => t[0].Softmax(1),
        ["log_softmax_last"] = t => t[0].LogSoftmax(-1),
        ["logsumexp_axis0"] = t => t[0].LogSumExp(0),
        ["mse"] = t => Tensor.MseLoss(t[0], t[1]),
        ["l2_normalize"] = t => t[0].L2Normalize(-1),
        ["gaussian_kl"] = t => Tensor.GaussianKl(t[0], t[1], t[2], t[3]),
        ["permute"] = t => t[0].Permute(2, 0, 3, 1),
        ["concat_axis1"] = t => Tensor.Concat(1, t[0], t[1], t[0]),
        ["slice_axis2"] = t => t[0].Slice(2, 1, 2),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void MatchesPyTorch(string name)
    {
        var f = FixtureFile.Load($"ops/core_{name}.bin");
        var inputs = Enumerable.Range(0, 8).TakeWhile(i => f.Contains($"in{i}")).Select(i => f[$"in{i}"].RequireGrad()).ToArray();
        var output = Cases[name](inputs);
        var expected = f["out"];
        TensorAssert.Close(expected.Data, output.Data, Atol, Rtol, $"{name} forward");
        (output * f["gout"].Reshape(output.ShapeArray())).Sum().Backward();
        for (int i = 0; i < inputs.Length; i++)
            TensorAssert.Close(f[$"grad_in{i}"], inputs[i].Grad!, Atol, Rtol, $"{name} grad of input {i}");
    }

    [Fact]
    public void CrossEntropyWithIntegerTargetsMatchesPyTorch()
    {
        var f = FixtureFile.Load("ops/core_cross_entropy.bin");
        var logits = f["in0"].RequireGrad();
        int[] targets = f["targets"].Data.Select(v => (int)v).ToArray();
        var loss = Tensor.CrossEntropy(logits, targets);
        TensorAssert.Close(f["out"].Data, loss.Data, Atol, Rtol, "loss");
        loss.Backward();
        TensorAssert.Close(f["grad_in0"], logits.Grad!, Atol, Rtol, "grad");
    }

    [Fact]
    public void SmallMlpLossAndEveryParameterGradientMatchPyTorch()
    {
        var f = FixtureFile.Load("ops/core_mlp.bin");
        var p = Enumerable.Range(0, 5).Select(i => f[$"in{i}"].RequireGrad()).ToArray();
        int[] targets = f["targets"].Data.Select(v => (int)v).ToArray();
        var loss = Tensor.CrossEntropy(Tensor.Linear(Tensor.Linear(p[0], p[1], p[2]).Gelu(), p[3], p[4]), targets);
        TensorAssert.Close(f["out"].Data, loss.Data, Atol, Rtol, "loss");
        loss.Backward();
        for (int i = 0; i < p.Length; i++) TensorAssert.Close(f[$"grad_in{i}"], p[i].Grad!, Atol, Rtol, $"grad of parameter {i}");
    }
}
