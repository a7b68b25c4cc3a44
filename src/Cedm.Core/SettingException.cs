namespace Cedm;

/// <summary>
/// A setting has a value the library cannot use. <see cref="Setting"/> is the name of the request or options
/// property at fault (<c>K</c>, <c>MaxK</c>, <c>Cond</c>, ...), not a method parameter: the front end maps it to
/// its own name for it (the CLI: <c>MaxK</c> → <c>--max-k</c>, docs/architecture.md "Errors").
/// </summary>
public sealed class SettingException(string setting, string message) : ArgumentException(message, setting)
{
    public string Setting => ParamName!;
}
