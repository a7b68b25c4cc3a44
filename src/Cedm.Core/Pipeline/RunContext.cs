using System.Text.Json.Nodes;
using Cedm.IO;

namespace Cedm.Pipeline;

/// <summary>
/// The run folder and what the steps share through it. Completion markers live in <c>&lt;run&gt;/steps/</c>, one JSON
/// file per finished step (written last and atomically), so a killed run restarts at the first unfinished step.
/// </summary>
public sealed class RunContext(string directory)
{
    public string Directory { get; } = Path.GetFullPath(directory);

    public string PathOf(string relative) => Path.Combine(Directory, relative);

    private string MarkerPath(string step) => PathOf(Path.Combine("steps", step + ".json"));

    public bool IsComplete(string step) => File.Exists(MarkerPath(step));

    /// <summary>Records that <paramref name="step"/> finished, with whatever summary it wants to keep.</summary>
    public void MarkComplete(string step, TimeSpan elapsed, JsonObject? summary = null)
    {
        var marker = new JsonObject
        {
            ["step"] = step,
            ["seconds"] = Math.Round(elapsed.TotalSeconds, 2),
            ["finished_utc"] = DateTime.UtcNow.ToString("O"),
            ["summary"] = summary,
        };
        AtomicFile.WriteAllBytes(MarkerPath(step), System.Text.Encoding.UTF8.GetBytes(marker.ToJsonString()), overwrite: true);
    }

    public JsonObject? Marker(string step) =>
        IsComplete(step) ? JsonNode.Parse(File.ReadAllText(MarkerPath(step))) as JsonObject : null;
}
