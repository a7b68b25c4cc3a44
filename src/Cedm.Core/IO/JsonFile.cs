using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cedm.IO;

/// <summary>
/// Reads cedm's JSON side files (clusters.json, label_map.json, step markers, ...) so that any damage — bad syntax,
/// a missing key, a value of the wrong type or range — is one <see cref="InvalidDataException"/> that starts with the
/// file's path (the CLI's exit 2), never a bare System.Text.Json message with exit 1.
/// </summary>
public static class JsonFile
{
    /// <summary>Parses <paramref name="path"/> as a JSON object and interprets it; every failure names the file.</summary>
    public static T Read<T>(string path, Func<JsonObject, T> interpret)
    {
        ArgumentNullException.ThrowIfNull(interpret);
        JsonObject json;
        try { json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path}: not a JSON object"); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e); }
        try { return interpret(json); }
        catch (InvalidDataException e) when (e.Message.StartsWith(path, StringComparison.Ordinal)) { throw; }
        catch (Exception e) when (e is InvalidDataException or InvalidOperationException or FormatException or OverflowException
            or NullReferenceException or KeyNotFoundException or ArgumentException or IndexOutOfRangeException)
        {
            throw new InvalidDataException($"{path}: unexpected content ({e.Message})", e);
        }
    }

    /// <summary>The object in <paramref name="path"/>, syntax checked (content is the caller's).</summary>
    public static JsonObject ReadObject(string path) => Read(path, j => j);
}
