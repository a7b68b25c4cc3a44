namespace Cedm.IO;

/// <summary>
/// Builds the exception for a malformed, truncated or unsupported file. <see cref="InvalidDataException"/>
/// is sealed, so instead of a subclass every message follows one convention: it starts with
/// "<c>file-name: </c>" so a user can tell which file to fix.
/// </summary>
internal static class FormatError
{
    public static InvalidDataException Of(string fileName, string problem, Exception? inner = null) =>
        new($"{fileName}: {problem}", inner);
}
