using System.Text.Json;
using Pipeline.Testing;
using YamlDotNet.RepresentationModel;
using static Pipeline.Tests.Deploy.ComposeFile;

namespace Pipeline.Tests.Deploy;

// The checks for what users open first: Prometheus' rules, Kibana's saved objects and Grafana's dashboards are where
// the compose services look for them.
internal sealed partial class DeploymentChecks
{
    public const string Kibana = "kibana";

    /// <summary>Every rule file prometheus.yml names is mounted into the prometheus container where that name resolves.</summary>
    public IReadOnlyList<string> PrometheusRuleFileProblems()
    {
        if (!compose.Services.TryGetValue(Prometheus, out var prometheus)) return [$"{compose.Source}: no service '{Prometheus}'"];
        var configPath = prometheus.CommandOption("--config.file") ?? "/etc/prometheus/prometheus.yml";
        var config = MountedFile(prometheus, configPath, out var problem);
        if (config is null) return [problem!];
        var ruleFiles = (Child(ParseYaml(File.ReadAllText(config)), "rule_files") as YamlSequenceNode)?.Children.Select(Text).ToList() ?? [];
        var list = new List<string>();
        if (ruleFiles.Count == 0) list.Add($"{RepositoryRoot.Display(config)} loads no rule_files");
        foreach (var rule in ruleFiles)
        {
            // Prometheus resolves a relative rule file against the directory of its config file.
            var containerPath = rule.StartsWith('/') ? rule : Path.GetDirectoryName(configPath)!.TrimEnd('/') + "/" + rule;
            if (MountedFile(prometheus, containerPath, out var missing) is null) list.Add(missing!);
        }
        return list;
    }

    /// <summary>A one-shot service imports an NDJSON saved-objects file, mounted from the repository, into the compose Kibana once it is healthy.</summary>
    public IReadOnlyList<string> KibanaSavedObjectsProblems(out string? savedObjectsFile)
    {
        savedObjectsFile = null;
        if (!compose.Services.TryGetValue(Kibana, out var kibana)) return [$"{compose.Source}: no service '{Kibana}'"];
        var list = new List<string>();
        if (kibana.HealthcheckTest is null) list.Add($"{Where(kibana)} has no healthcheck, so nothing can wait for it before importing saved objects");
        var loader = compose.Services.Values.FirstOrDefault(s => string.Join(' ', s.Command).Contains("/api/saved_objects/_import", StringComparison.Ordinal));
        if (loader is null) return [.. list, $"{compose.Source}: no service imports saved objects into Kibana (POST /api/saved_objects/_import)"];
        var command = string.Join(' ', loader.Command);
        if (!kibana.NetworkNames.Any(n => command.Contains($"//{n}:5601/", StringComparison.Ordinal)))
            list.Add($"{Where(loader)} does not post to the compose Kibana service on port 5601: {command}");
        if (!loader.DependsOn.TryGetValue(Kibana, out var condition) || condition != "service_healthy")
            list.Add($"{Where(loader)} must depend_on {Kibana} with condition service_healthy, or its import races Kibana's start");
        if (!command.Contains("kbn-xsrf", StringComparison.Ordinal)) list.Add($"{Where(loader)} sends no kbn-xsrf header; Kibana refuses the import without it");
        var at = command.IndexOf("file=@", StringComparison.Ordinal);
        if (at < 0) return [.. list, $"{Where(loader)} uploads no file (--form file=@PATH)"];
        var containerPath = command[(at + 6)..].Split(' ', '"', '\'')[0];
        savedObjectsFile = MountedFile(loader, containerPath, out var problem);
        if (savedObjectsFile is null) list.Add(problem!);
        return list;
    }

    /// <summary>Grafana's dashboard providers read directories mounted from the repository, holding dashboards whose datasource is a provisioned one.</summary>
    public IReadOnlyList<string> GrafanaDashboardProblems(out IReadOnlyList<string> dashboards)
    {
        var found = new List<string>();
        dashboards = found;
        if (!compose.Services.TryGetValue(Grafana, out var grafana)) return [$"{compose.Source}: no service '{Grafana}'"];
        var providers = MountedDirectory(grafana, "/etc/grafana/provisioning/dashboards", out var problem);
        if (providers is null) return [problem!];
        var datasources = MountedDirectory(grafana, "/etc/grafana/provisioning/datasources", out problem);
        if (datasources is null) return [problem!];
        var uids = Directory.EnumerateFiles(datasources, "*.yml")
            .SelectMany(f => (Child(ParseYaml(File.ReadAllText(f)), "datasources") as YamlSequenceNode)?.Children ?? [])
            .Select(ds => Text(Child(ds, "uid"))).Where(u => u.Length > 0).ToHashSet(StringComparer.Ordinal);
        var list = new List<string>();
        foreach (var file in Directory.EnumerateFiles(providers, "*.yml"))
        {
            foreach (var provider in (Child(ParseYaml(File.ReadAllText(file)), "providers") as YamlSequenceNode)?.Children ?? [])
            {
                var path = Text(Child(Child(provider, "options"), "path"));
                var dir = MountedDirectory(grafana, path, out var missing);
                if (dir is null) { list.Add($"{RepositoryRoot.Display(file)}: provider '{Text(Child(provider, "name"))}': {missing}"); continue; }
                var json = Directory.GetFiles(dir, "*.json");
                if (json.Length == 0) list.Add($"{RepositoryRoot.Display(file)}: provider path {path} ({RepositoryRoot.Display(dir)}) holds no dashboard");
                found.AddRange(json);
            }
        }
        if (found.Count == 0 && list.Count == 0) list.Add($"{Where(grafana)}: no dashboard is provisioned");
        foreach (var dashboard in found)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(dashboard));
            foreach (var panel in doc.RootElement.GetProperty("panels").EnumerateArray())
            {
                if (!panel.TryGetProperty("datasource", out var ds)) continue;
                var uid = ds.GetProperty("uid").GetString() ?? "";
                if (!uids.Contains(uid))
                    list.Add($"{RepositoryRoot.Display(dashboard)}: panel '{panel.GetProperty("title").GetString()}' uses datasource uid '{uid}', which no provisioned datasource has ({string.Join(", ", uids)})");
            }
        }
        return list;
    }
}
