namespace Pipeline.Plumbing.Config;

/// <summary>
/// Config can make the agent run code (exec probes, filter plugins), so a config file that other users
/// can write is as dangerous as a root shell for them; one that others can read leaks its secrets.
/// </summary>
public static class ConfigFileSafety
{
    /// <summary>The problem with the file's permissions that must stop the agent, or null.</summary>
    public static string? WritableByOthers(string path)
    {
        if (OperatingSystem.IsWindows() || !File.Exists(path)) return null;
        var mode = File.GetUnixFileMode(path);
        if ((mode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) == 0) return null;
        return $"{path} is writable by other users (mode {Convert.ToString((int)mode, 8)}); it can make the agent run code (exec probes, plugins). " +
               $"Fix with `chmod go-w {path}`, or pass --allow-insecure-config if you accept the risk.";
    }

    /// <summary>A warning when the file holds secrets (literal or from the environment) and others can read it, or null.</summary>
    public static string? SecretsReadableByOthers(string path)
    {
        if (OperatingSystem.IsWindows() || !File.Exists(path)) return null;
        var mode = File.GetUnixFileMode(path);
        if ((mode & UnixFileMode.OtherRead) == 0) return null;
        var text = File.ReadAllText(path);
        foreach (var key in new[] { "password", "api_key", "token", "secret" })
        {
            if (text.Contains(key, StringComparison.OrdinalIgnoreCase))
                return $"{path} holds secrets ({key}) and is readable by every user (mode {Convert.ToString((int)mode, 8)}); consider `chmod o-r {path}` and ${{env:NAME}} for secrets";
        }
        return null;
    }
}
