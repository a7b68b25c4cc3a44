using Cedm.Tensors;

namespace Cedm.Nn.Optim;

/// <summary>Parameter-wise θ_avg ← θ + β·(θ_avg − θ) between two modules of the same architecture.</summary>
internal static class ParameterAverage
{
    /// <summary>Pairs the parameters of <paramref name="source"/> and <paramref name="average"/> by path, checking shapes.</summary>
    public static (Tensor Source, Tensor Average)[] Pair(Module source, Module average)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(average);
        if (ReferenceEquals(source, average)) throw new ArgumentException("The averaged copy must be a different module from the source.");
        var src = source.NamedParameters().ToList();
        var avg = average.NamedParameters().ToDictionary(p => p.Path, p => p.Tensor, StringComparer.Ordinal);
        if (src.Count != avg.Count || src.Any(p => !avg.ContainsKey(p.Path)))
            throw new ArgumentException($"The two modules have different parameters ({src.Count} vs {avg.Count}); an EMA needs a copy of the same architecture.");
        var pairs = new (Tensor, Tensor)[src.Count];
        for (int i = 0; i < src.Count; i++)
        {
            var (path, s) = src[i];
            var a = avg[path];
            if (!Shapes.Equal(s.Shape, a.Shape))
                throw new ArgumentException($"Parameter '{path}': shape {Shapes.Format(s.Shape)} in the source, {Shapes.Format(a.Shape)} in the copy.");
            pairs[i] = (s, a);
        }
        return pairs;
    }

    /// <summary>
    /// EDM's <c>p_net.lerp(p_ema, β)</c> = θ + β·(θ_avg − θ): β = 0 copies θ exactly, β = 1 keeps θ_avg.
    /// </summary>
    public static void Update((Tensor Source, Tensor Average)[] pairs, double beta)
    {
        float b = (float)beta;
        foreach (var (s, a) in pairs)
        {
            var sd = s.Data;
            var ad = a.Data;
            for (int i = 0; i < sd.Length; i++) ad[i] = sd[i] + b * (ad[i] - sd[i]);
        }
    }
}
