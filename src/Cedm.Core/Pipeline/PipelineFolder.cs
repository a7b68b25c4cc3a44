using System.Text.Json.Nodes;
using Cedm.IO;

namespace Cedm.Pipeline;

/// <summary>
/// The run folder and what the steps share through it. Completion markers live in <c>&lt;run&gt;/steps/</c>, one JSON
/// file per finished step (written last and atomically), so a killed run restarts at the first unfinished step.
/// </summary>
public sealed class PipelineFolder(string directory)
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

    /// <summary>When <paramref name="step"/>'s marker was written, or null while the step is not complete.</summary>
    public DateTime? CompletedAt(string step) => IsComplete(step) ? File.GetLastWriteTimeUtc(MarkerPath(step)) : null;

    public JsonObject? Marker(string step) =>
        IsComplete(step) ? JsonFile.ReadObject(MarkerPath(step)) : null;
}

/// <summary>The options file of a pipeline folder (run.json, study-options.json): the options a folder was started with.</summary>
public static class SavedOptions
{
    /// <summary>
    /// The options <paramref name="folder"/> was started with — a resumed pipeline keeps them, since its finished
    /// steps were computed with them (a note says so when they differ from <paramref name="requested"/>) — or, in a
    /// new folder, <paramref name="requested"/>, saved as its first file.
    /// </summary>
    public static T Open<T>(PipelineFolder folder, string fileName, T requested, Func<string, T> read, Func<T, string> write, Func<T, T, bool> same, Action<string> note)
    {
        string saved = folder.PathOf(fileName);
        using var folderLock = FolderLock.Acquire(folder.Directory);
        if (File.Exists(saved))
        {
            var previous = read(File.ReadAllText(saved));
            if (!same(previous, requested)) note($"note: {folder.Directory} was started with other options; resuming with the saved ones ({saved})");
            return previous;
        }
        System.IO.Directory.CreateDirectory(folder.Directory);
        AtomicFile.WriteAllBytes(saved, System.Text.Encoding.UTF8.GetBytes(write(requested)), overwrite: false);
        return requested;
    }
}
