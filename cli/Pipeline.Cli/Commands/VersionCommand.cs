using System.CommandLine;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Cli.Commands;

internal static class VersionCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print machine-readable JSON." };
        var command = new Command("version", """
            Print the version, git commit, build time, .NET runtime and librdkafka version.

            Examples:
              pipeline version
              pipeline version --json | jq -r .commit
            """) { json };
        command.SetAction(parse =>
        {
            var info = Current();
            if (parse.GetValue(json)) Console.Out.WriteLine(JsonSerializer.Serialize(info, VersionJsonContext.Default.VersionInfo));
            else Console.Out.WriteLine($"pipeline {info.Version} (commit {info.Commit}, built {info.BuildTime}) on {info.Runtime}, librdkafka {info.Librdkafka}");
            return 0;
        });
        return command;
    }

    public static VersionInfo Current()
    {
        var assembly = typeof(VersionCommand).Assembly;
        string Meta(string key) => assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value ?? "unknown";
        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        int plus = version.IndexOf('+', StringComparison.Ordinal);
        return new VersionInfo(plus > 0 ? version[..plus] : version, Meta("GitCommit"), Meta("BuildTime"),
            RuntimeInformation.FrameworkDescription, Confluent.Kafka.Library.VersionString);
    }
}

internal sealed record VersionInfo(
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("commit")] string Commit,
    [property: JsonPropertyName("build_time")] string BuildTime,
    [property: JsonPropertyName("runtime")] string Runtime,
    [property: JsonPropertyName("librdkafka")] string Librdkafka);

[JsonSerializable(typeof(VersionInfo))]
[JsonSourceGenerationOptions(WriteIndented = false)]
internal sealed partial class VersionJsonContext : JsonSerializerContext;
