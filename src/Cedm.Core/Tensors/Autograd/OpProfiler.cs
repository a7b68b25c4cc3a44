using System.Diagnostics;

namespace Cedm.Tensors.Autograd;

/// <summary>
/// Opt-in per-op timing of a training step (bench suite "trainprofile"): forward time is attributed to a recorded op as
/// the time since the previous op recorded (so it includes the glue between ops, e.g. allocating the output),
/// backward time is each op's chain-rule closure (ops run inside it are not counted again: recording is off there).
/// Off by default; one branch per op when off. Single-threaded use only.
/// </summary>
internal static class OpProfiler
{
    private static long _last;
    private static readonly Dictionary<string, OpTime> Times = new(StringComparer.Ordinal);

    public static bool Enabled { get; private set; }

    /// <summary>Key ops by name and shapes ("conv2d [32,64,16,16]x[64,64,3,3]->[32,64,16,16]") instead of name alone.</summary>
    public static bool ByShape { get; set; }

    /// <summary>Per-op totals in Stopwatch ticks.</summary>
    public sealed class OpTime
    {
        public long ForwardTicks, BackwardTicks;
        public int ForwardCalls, BackwardCalls;
    }

    public static void Start()
    {
        Times.Clear();
        Enabled = true;
        _last = Stopwatch.GetTimestamp();
    }

    public static IReadOnlyDictionary<string, OpTime> Stop()
    {
        Enabled = false;
        return new Dictionary<string, OpTime>(Times);
    }

    /// <summary>Restarts the forward clock (e.g. after backward, or before the first op of a step).</summary>
    public static void Mark() => _last = Stopwatch.GetTimestamp();

    /// <summary>Books the forward time of <paramref name="op"/> and returns the key its backward is booked under.</summary>
    public static string Forward(string op, Tensor[] inputs, Tensor output)
    {
        long now = Stopwatch.GetTimestamp();
        if (ByShape)
            op = $"{op} {string.Join("x", inputs.Select(i => Shapes.Format(i.Shape)))}->{Shapes.Format(output.Shape)}";
        var t = Get(op);
        t.ForwardTicks += now - _last;
        t.ForwardCalls++;
        _last = Stopwatch.GetTimestamp();
        return op;
    }

    public static void Backward(string op, long ticks)
    {
        var t = Get(op);
        t.BackwardTicks += ticks;
        t.BackwardCalls++;
    }

    private static OpTime Get(string op)
    {
        if (!Times.TryGetValue(op, out var t)) Times[op] = t = new OpTime();
        return t;
    }
}
