using Cedm.Tensors;

namespace Cedm.Nn.Optim;

/// <summary>
/// Parameters that share a learning rate and weight decay (PyTorch's param_groups). A null
/// <see cref="Lr"/>/<see cref="WeightDecay"/> takes the optimiser's option when the optimiser is built;
/// afterwards both are set and may be changed between steps (schedules set <see cref="Lr"/> every step).
/// </summary>
public sealed class ParamGroup(IEnumerable<Tensor> parameters, double? weightDecay = null, double? lr = null, string name = "")
{
    public IReadOnlyList<Tensor> Parameters { get; } = parameters?.ToArray() ?? throw new ArgumentNullException(nameof(parameters));

    public double? Lr { get; set; } = lr;

    public double? WeightDecay { get; set; } = weightDecay;

    public string Name { get; } = name;
}

/// <summary>Standard ways to split a model's parameters into groups.</summary>
public static class ParamGroups
{
    /// <summary>
    /// TEMI/DINO's two groups (spec §4.5): parameters with ≥ 2 dims get <paramref name="weightDecay"/>
    /// (weights, including weight-norm g of shape [K, 1]); 1-D/0-D parameters and anything named "*.bias" get 0.
    /// Either group may be empty.
    /// </summary>
    public static ParamGroup[] DecayAndNoDecay(IEnumerable<(string Path, Tensor Tensor)> namedParameters, double weightDecay)
    {
        var decay = new List<Tensor>();
        var noDecay = new List<Tensor>();
        foreach (var (path, t) in namedParameters)
        {
            bool exempt = t.Rank <= 1 || path == "bias" || path.EndsWith(".bias", StringComparison.Ordinal);
            (exempt ? noDecay : decay).Add(t);
        }
        return [new ParamGroup(decay, weightDecay, name: "decay"), new ParamGroup(noDecay, 0.0, name: "no_decay")];
    }
}
