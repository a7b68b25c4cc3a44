using System.Text.Json.Serialization;

namespace Cedm.Diffusion.Sampling;

/// <summary>
/// The ODE solver <see cref="EdmSampler"/> steps with over EDM's time steps t_0 … t_N = 0 (<see cref="SigmaSchedule"/>).
/// Written to JSON by its command-line name (heun, dpm2m).
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<SamplerSolver>))]
public enum SamplerSolver
{
    /// <summary>EDM's second-order Heun method ("Algorithm 2", spec §1.5), optionally stochastic: 2N − 1 evaluations.</summary>
    [JsonStringEnumMemberName("heun")]
    Heun,

    /// <summary>DPM-Solver++(2M) (Lu et al. 2022), multistep second order, deterministic: N evaluations.</summary>
    [JsonStringEnumMemberName("dpm2m")]
    DpmSolver2M,
}

/// <summary>Names, parsing and network-evaluation counts of the <see cref="SamplerSolver"/>s.</summary>
public static class SamplerSolvers
{
    /// <summary>The command-line names.</summary>
    public static readonly string[] Names = ["heun", "dpm2m"];

    /// <summary>
    /// The solver of every sampling default (`cedm sample`, `cedm run`, `cedm study`): DPM-Solver++(2M), which matched
    /// Heun's FD at half the evaluations (docs/sampling.md).
    /// </summary>
    public const SamplerSolver Default = SamplerSolver.DpmSolver2M;

    /// <summary>What an options file written before the solver was saved used: Heun.</summary>
    public const SamplerSolver Legacy = SamplerSolver.Heun;

    /// <summary>
    /// An options file's JSON with <paramref name="key"/> set to the legacy solver when it lacks the key, so a folder
    /// started before the solver was saved resumes with the solver it started with, whatever the default is now.
    /// </summary>
    public static string WithLegacySolver(string json, string key)
    {
        if (System.Text.Json.Nodes.JsonNode.Parse(json) is not System.Text.Json.Nodes.JsonObject o || o.ContainsKey(key)) return json;
        o[key] = Name(Legacy);
        return o.ToJsonString();
    }

    /// <summary>heun, dpm2m.</summary>
    public static string Name(SamplerSolver solver) => solver switch
    {
        SamplerSolver.Heun => "heun",
        SamplerSolver.DpmSolver2M => "dpm2m",
        _ => throw new ArgumentOutOfRangeException(nameof(solver), solver, "not a sampler solver"),
    };

    /// <summary>The name people read: "Heun", "DPM-Solver++(2M)".</summary>
    public static string Title(SamplerSolver solver) => solver == SamplerSolver.DpmSolver2M ? "DPM-Solver++(2M)" : "Heun";

    /// <summary>A command-line name; anything else is a <see cref="SettingException"/> about <paramref name="setting"/>.</summary>
    public static SamplerSolver Parse(string text, string setting = "Solver") => text switch
    {
        "heun" => SamplerSolver.Heun,
        "dpm2m" => SamplerSolver.DpmSolver2M,
        _ => throw new SettingException(setting, $"expected {string.Join(" or ", Names)}, got '{text}'"),
    };

    /// <summary>
    /// Network evaluations per image for <paramref name="steps"/> = N, EDM's N + 1 time points ending at 0:
    /// Heun evaluates at every non-zero level and again at its next one except before 0 (2N − 1); DPM-Solver++(2M)
    /// evaluates once per non-zero level (N), reusing the previous evaluation for its second order.
    /// </summary>
    public static int Evaluations(SamplerSolver solver, int steps) => solver switch
    {
        SamplerSolver.Heun => 2 * steps - 1,
        SamplerSolver.DpmSolver2M => steps,
        _ => throw new ArgumentOutOfRangeException(nameof(solver), solver, "not a sampler solver"),
    };
}
