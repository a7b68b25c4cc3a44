using Cedm.Tensors;

namespace Cedm.Nn;

/// <summary>
/// One forward + backward pass whose temporaries (activations, intermediate gradients) are recycled across steps by a
/// <see cref="TensorArena"/>; only the parameters' gradients outlive it. Every training loop (the EDM trainer, the
/// benchmarks) runs its step through here so they measure the same thing.
/// </summary>
public static class TrainingPass
{
    /// <summary>
    /// Computes the loss, hands its value to <paramref name="beforeBackward"/> (which may throw, e.g. on NaN), then
    /// back-propagates; returns the loss value. Gradients accumulate into <paramref name="parameters"/> as usual.
    /// </summary>
    /// <param name="gradientReady">Called with each leaf whose gradient is final, during backward
    /// (<see cref="Tensor.Backward(Tensor?, Action{Tensor}?)"/>).</param>
    public static double Run(Func<Tensor> loss, IEnumerable<Tensor> parameters, Action<double>? beforeBackward = null, Action<Tensor>? gradientReady = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(parameters);
        using var arena = TensorArena.Begin();
        var l = loss();
        double value = l.Item();
        beforeBackward?.Invoke(value);
        l.Backward(null, gradientReady);
        foreach (var p in parameters)
            if (p.Grad != null) arena.Keep(p.Grad);
        return value;
    }
}
