using System.CommandLine;
using Pipeline.Plumbing.Config;

namespace Pipeline.Cli.Commands;

/// <summary>Options every stage command shares, and the one way they load config.</summary>
internal static class CommonOptions
{
    public const int ExitConfigError = 2;
    public const int ExitFailure = 1;

    public static Option<FileInfo?> Config() => new("--config", "-c")
    {
        Description = "TOML config file. Without it every default applies (embedded Kafka, /var/log/*.log, NDJSON output).",
        HelpName = "FILE",
    };

    /// <summary>Loads the config or prints the first problem on one line (file:line:col: message) and returns null.</summary>
    public static LoadedConfig? Load(FileInfo? file)
    {
        try
        {
            return ConfigLoader.Load(file?.FullName);
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine($"config error: {e.Message}");
            if (e.Errors.Count > 1) Console.Error.WriteLine($"({e.Errors.Count - 1} more; run `pipeline config check {file?.FullName}` to see them all)");
            return null;
        }
    }
}
