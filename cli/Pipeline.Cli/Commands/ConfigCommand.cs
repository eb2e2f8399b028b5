using System.CommandLine;
using Pipeline.Plumbing.Config;

namespace Pipeline.Cli.Commands;

internal static class ConfigCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The TOML config file to check." };
        var check = new Command("check", """
            Validate a config file. Prints every problem as file:line:column: message (exit 2), or the
            effective config with all defaults filled in and secrets masked (exit 0).

            Examples:
              pipeline config check /etc/pipeline/agent.toml
              API_KEY=x pipeline config check sinks.toml     # ${env:API_KEY} is resolved, then masked
            """) { file };
        check.SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            try
            {
                var loaded = ConfigLoader.Load(path.FullName);
                Console.Out.Write(ConfigPrinter.ToToml(loaded.Config));
                Console.Error.WriteLine($"{path.FullName}: OK");
                return 0;
            }
            catch (ConfigException e)
            {
                foreach (var error in e.Errors) Console.Error.WriteLine(error);
                return CommonOptions.ExitConfigError;
            }
        });
        return new Command("config", "Work with config files.") { check };
    }
}
