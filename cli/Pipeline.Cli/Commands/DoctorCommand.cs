using System.CommandLine;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Doctor;
using Pipeline.Producers.Logs;

namespace Pipeline.Cli.Commands;

/// <summary>
/// <c>pipeline doctor</c>: runs the checks in plumbing/Pipeline.Plumbing/Doctor against this host and a
/// config, in the order a person would fix them. Only the registry check lives here, because the
/// registry belongs to the producers.
/// </summary>
internal static class DoctorCommand
{
    private static readonly TimeSpan NetworkTimeout = TimeSpan.FromSeconds(5);

    public static Command Create()
    {
        var config = CommonOptions.Config();
        var json = new Option<bool>("--json") { Description = "Print one JSON document ({\"ok\": bool, \"checks\": [...]}) for fleet tooling." };
        var command = new Command("doctor", """
            Check this host against a config before relying on it: the config parses, the data dir is
            writable, the log registry is readable, every log glob matches files this user can read,
            /proc, /dev/kmsg and cgroup v2 are usable, Kafka answers and has the topics, Elasticsearch
            (when configured) answers as Elasticsearch, and the clock is right.
            One line per check: ✓ fine, ! works with something missing, ✗ broken (with what to do).
            Exit 0 when nothing is ✗, 1 otherwise.

            Examples:
              pipeline doctor --config /etc/pipeline/agent.toml
              sudo -u pipeline pipeline doctor --config /etc/pipeline/agent.toml   # as the service's user
              pipeline doctor --config agent.toml --json | jq '.checks[] | select(.status == "fail")'
            """) { config, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var results = await RunAsync(parse.GetValue(config), cancellationToken).ConfigureAwait(false);
            Console.Out.Write(parse.GetValue(json) ? DoctorReport.Json(results) + "\n" : DoctorReport.Text(results));
            return results.Any(r => r.Status == CheckStatus.Fail) ? CommonOptions.ExitFailure : 0;
        });
        return command;
    }

    private static async Task<List<CheckResult>> RunAsync(FileInfo? file, CancellationToken cancellationToken)
    {
        var source = file?.FullName ?? "(defaults)";
        LoadedConfig loaded;
        try
        {
            loaded = ConfigLoader.Load(file?.FullName);
        }
        catch (ConfigException e)
        {
            // Nothing else can be checked without a config.
            return [CheckResult.Fail("config", e.Message + (e.Errors.Count > 1 ? $" ({e.Errors.Count - 1} more)" : ""), $"pipeline config check {source}")];
        }
        var config = loaded.Config;
        var results = new List<CheckResult> { CheckResult.Ok("config", $"{source} parses") };
        results.Add(HostChecks.DataDir(config));
        results.Add(Registry(config));
        results.AddRange(LogInputChecks.Check(config));
        results.Add(HostChecks.Proc());
        results.Add(HostChecks.Kmsg());
        results.Add(HostChecks.CgroupV2());
        results.AddRange(KafkaCheck.Check(config, NetworkTimeout));
        results.AddRange(await ElasticsearchCheck.CheckAsync(config.Elasticsearch, NetworkTimeout, cancellationToken).ConfigureAwait(false));
        return results;
    }

    private static CheckResult Registry(PipelineConfig config)
    {
        const string Check = "registry";
        var path = CheckpointStore.RegistryPath(config.DataDir);
        if (!File.Exists(path)) return CheckResult.Ok(Check, $"{path} not written yet (files start per start_at)");
        try
        {
            // Read only: the doctor must not migrate or move aside what the agent owns.
            var (version, entries) = CheckpointStore.Read(path);
            var migrate = version < CheckpointStore.FormatVersion ? $"; format {version}, migrated to {CheckpointStore.FormatVersion} at the agent's next start" : $"; format {version}";
            return CheckResult.Ok(Check, $"{path}: {entries.Count} file(s) tracked{migrate}");
        }
        catch (Pipeline.Producers.NewerStateFormatException e)
        {
            return CheckResult.Fail(Check, e.Message, "run the pipeline version that wrote it (this one is older), or move it aside to start over");
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidDataException or IOException or UnauthorizedAccessException)
        {
            return CheckResult.Fail(Check, $"{path} cannot be read: {e.Message}", "move it aside to start over (files are then read per start_at), or fix its owner");
        }
    }
}
