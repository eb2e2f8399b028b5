using Pipeline.Testing;
using System.Text.RegularExpressions;
using Pipeline.Plumbing.Config;
using YamlDotNet.RepresentationModel;
using static Pipeline.Tests.Deploy.ComposeFile;

namespace Pipeline.Tests.Deploy;

/// <summary>
/// Checks that docker-compose.yml, the pipeline configs it mounts and the Prometheus and Grafana files
/// agree with each other. Each check returns its problems, one sentence each, naming the service and
/// the file; an empty list means the deployment is consistent in that respect.
/// </summary>
internal sealed partial class DeploymentChecks(ComposeFile compose, string repositoryRoot)
{
    public const string Kafka = "kafka";
    public const string Elasticsearch = "elasticsearch";
    public const string Prometheus = "prometheus";
    public const string Grafana = "grafana";
    public const int ElasticsearchHttpPort = 9200;

    public static readonly IReadOnlyList<string> RequiredServices =
        [Kafka, Elasticsearch, "kibana", Prometheus, Grafana, "agent", "processors", "sinks"];

    /// <summary>The pipeline's services and the <c>pipeline</c> subcommand each must run.</summary>
    public static readonly IReadOnlyDictionary<string, string> PipelineServices = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["agent"] = "agent",
        ["processors"] = "process",
        ["sinks"] = "sink",
    };

    private static readonly string[] Loopback = ["127.0.0.1", "localhost", "::1"];

    public IReadOnlyList<string> MissingServices()
        => RequiredServices.Where(s => !compose.Services.ContainsKey(s)).Select(s => $"{compose.Source}: no service '{s}'").ToList();

    /// <summary>Repository files the deployment mounts or builds from, and named volumes, all exist.</summary>
    public IReadOnlyList<string> MissingHostPaths()
    {
        var problems = new List<string>();
        foreach (var service in compose.Services.Values)
        {
            foreach (var mount in service.Mounts)
            {
                if (mount.IsBind && mount.Source.StartsWith('.'))
                {
                    var full = InRepository(mount.Source);
                    if (full is null)
                        problems.Add($"{Where(service)} bind-mounts '{mount.Entry}', which points outside the repository");
                    else if (!File.Exists(full) && !Directory.Exists(full))
                        problems.Add($"{Where(service)} bind-mounts '{mount.Entry}', but {RepositoryRoot.Display(full)} does not exist in the repository");
                }
                else if (!mount.IsBind && mount.Source.Length > 0 && !compose.NamedVolumes.Contains(mount.Source))
                {
                    problems.Add($"{Where(service)} mounts volume '{mount.Source}', which is not declared under the top-level volumes:");
                }
            }
            if (service.Build is var (context, dockerfile))
            {
                var contextDir = InRepository(context);
                var dockerfilePath = contextDir is null ? null : Path.GetFullPath(Path.Combine(contextDir, dockerfile));
                if (contextDir is null || !Directory.Exists(contextDir))
                    problems.Add($"{Where(service)} builds from context '{context}', which is not a directory in the repository");
                else if (dockerfilePath is null || !File.Exists(dockerfilePath))
                    problems.Add($"{Where(service)} builds with '{dockerfile}', but {RepositoryRoot.Display(dockerfilePath ?? dockerfile)} does not exist");
            }
        }
        return problems;
    }

    /// <summary>
    /// Finds each pipeline service's <c>--config</c> file through its bind mounts and loads it with
    /// <see cref="ConfigLoader"/>; every failure to do so is a problem.
    /// </summary>
    public (IReadOnlyList<DeployedStage> Stages, IReadOnlyList<string> Problems) ResolveStages()
    {
        var stages = new List<DeployedStage>();
        var problems = new List<string>();
        foreach (var (name, subcommand) in PipelineServices)
        {
            if (!compose.Services.TryGetValue(name, out var service))
            {
                problems.Add($"{compose.Source}: no service '{name}'");
                continue;
            }
            var args = service.Command;
            if (args.Count == 0 || args[0] != subcommand)
                problems.Add($"{Where(service)} runs `{string.Join(' ', args)}`; it must run `{subcommand} --config FILE`");
            var containerPath = service.CommandOption("--config");
            if (containerPath is null)
            {
                problems.Add($"{Where(service)} has no `--config FILE` in its command");
                continue;
            }
            var mount = service.Mounts.Where(m => m.IsBind && m.Covers(containerPath)).MaxBy(m => m.Target.Length);
            if (mount is null)
            {
                problems.Add($"{Where(service)} runs with --config {containerPath}, but no bind mount puts a file there");
                continue;
            }
            var hostPath = HostPath(mount, containerPath);
            if (hostPath is null || !File.Exists(hostPath))
            {
                problems.Add($"{Where(service)} mounts its --config {containerPath} from '{mount.Source}', which is not a file in the repository");
                continue;
            }
            var file = RepositoryRoot.Display(hostPath);
            try
            {
                stages.Add(new DeployedStage(service, file, ConfigLoader.Load(hostPath).Config));
            }
            catch (ConfigException e)
            {
                foreach (var error in e.Errors) problems.Add($"{Where(service)}: its config {file} does not load: {error}");
            }
        }
        return (stages, problems);
    }

    /// <summary>Configs load, and what they point at inside the container (data_dir, log files) is mounted.</summary>
    public IReadOnlyList<string> ConfigProblems()
    {
        var (stages, problems) = ResolveStages();
        var list = problems.ToList();
        foreach (var stage in stages)
        {
            var service = stage.Service;
            var dataDir = stage.Config.DataDir.TrimEnd('/');
            if (!dataDir.StartsWith('/'))
                list.Add($"{Where(service)}: {stage.ConfigFile} data_dir = \"{stage.Config.DataDir}\" is relative; use an absolute path on a volume, e.g. /var/lib/pipeline");
            else if (!service.Mounts.Any(m => m.Covers(dataDir)))
                list.Add($"{Where(service)}: {stage.ConfigFile} data_dir = \"{stage.Config.DataDir}\" is on no volume, so checkpoints and state are lost when the container is recreated");

            if (PipelineServices[service.Name] != "agent") continue;
            var patterns = stage.Config.Logs.Inputs.Count == 0
                ? ["/var/log/*.log", "/var/log/syslog"] // what the agent tails when no [[logs.inputs]] is given
                : stage.Config.Logs.Inputs.SelectMany(i => i.Paths).ToList();
            foreach (var pattern in patterns)
            {
                var fixedPart = FixedPrefix(pattern);
                if (!service.Mounts.Any(m => m.Covers(fixedPart)))
                    list.Add($"{Where(service)}: {stage.ConfigFile} tails \"{pattern}\", but nothing is mounted at {fixedPart} in the container");
            }
        }
        return list;
    }

    /// <summary>Each pipeline service exposes exactly the port its config serves /metrics on, on an address other containers reach.</summary>
    public IReadOnlyList<string> MetricsPortProblems()
    {
        var (stages, problems) = ResolveStages();
        var list = problems.ToList();
        foreach (var stage in stages)
        {
            var service = stage.Service;
            var listen = stage.Config.Metrics.Listen;
            if (!TrySplitHostPort(listen, out var host, out int port))
            {
                list.Add($"{Where(service)}: {stage.ConfigFile} metrics.listen = \"{listen}\" serves no metrics, so Prometheus has nothing to scrape");
                continue;
            }
            if (Loopback.Contains(host, StringComparer.OrdinalIgnoreCase))
                list.Add($"{Where(service)}: {stage.ConfigFile} metrics.listen = \"{listen}\" is loopback inside the container, so Prometheus cannot reach it; use \"0.0.0.0:{port}\"");
            var declared = service.ContainerPorts;
            if (declared.Count == 0)
                list.Add($"{Where(service)} exposes no port, but {stage.ConfigFile} serves metrics on {listen}; add expose: [\"{port}\"]");
            foreach (var p in declared.Where(p => p.ContainerPort != port))
                list.Add($"{Where(service)} {p.Entry} is container port {(p.ContainerPort == 0 ? "(not a single port)" : p.ContainerPort)}, but {stage.ConfigFile} metrics.listen = \"{listen}\"");
            if (service.HealthcheckTest is { } test)
            {
                foreach (Match m in HealthcheckPort().Matches(test))
                {
                    if (int.Parse(m.Groups["port"].Value) != port)
                        list.Add($"{Where(service)} healthcheck probes port {m.Groups["port"].Value}, but {stage.ConfigFile} metrics.listen = \"{listen}\"");
                }
            }
        }
        return list;
    }

    /// <summary>The Prometheus config the prometheus service mounts scrapes exactly the pipeline services on their metrics ports.</summary>
    public IReadOnlyList<string> PrometheusTargetProblems()
    {
        if (!compose.Services.TryGetValue(Prometheus, out var prometheus)) return [$"{compose.Source}: no service '{Prometheus}'"];
        var containerPath = prometheus.Command.Select(a => a.StartsWith("--config.file=", StringComparison.Ordinal) ? a["--config.file=".Length..] : null)
            .FirstOrDefault(a => a is not null) ?? "/etc/prometheus/prometheus.yml";
        var hostPath = MountedFile(prometheus, containerPath, out var problem);
        if (hostPath is null) return [problem!];
        return PrometheusTargetProblems(File.ReadAllText(hostPath), RepositoryRoot.Display(hostPath));
    }

    public IReadOnlyList<string> PrometheusTargetProblems(string prometheusYaml, string source)
    {
        var (stages, problems) = ResolveStages();
        var list = problems.ToList();
        var scraped = new List<(string Job, string Target)>();
        foreach (var job in (Child(ParseYaml(prometheusYaml), "scrape_configs") as YamlSequenceNode)?.Children ?? [])
        {
            var jobName = Text(Child(job, "job_name"));
            var path = Text(Child(job, "metrics_path"));
            if (path.Length > 0 && path != "/metrics")
                list.Add($"{source}: job '{jobName}' scrapes {path}; the pipeline serves /metrics");
            foreach (var group in (Child(job, "static_configs") as YamlSequenceNode)?.Children ?? [])
            {
                foreach (var target in (Child(group, "targets") as YamlSequenceNode)?.Children ?? [])
                    scraped.Add((jobName, Text(target)));
            }
        }
        foreach (var stage in stages)
        {
            if (stage.MetricsPort is not { } port) continue; // reported by the metrics port check
            var expected = $"{stage.Service.Name}:{port}";
            var jobs = scraped.Where(s => s.Target == expected).Select(s => s.Job).ToList();
            if (jobs.Count == 0)
                list.Add($"{source} does not scrape {expected}, the metrics endpoint of service '{stage.Service.Name}' ({stage.ConfigFile} metrics.listen = \"{stage.Config.Metrics.Listen}\")");
            else if (jobs.Count > 1)
                list.Add($"{source} scrapes {expected} (service '{stage.Service.Name}') in {jobs.Count} jobs: {string.Join(", ", jobs)}");
            foreach (var job in jobs.Where(j => !j.Contains(stage.Service.Name, StringComparison.OrdinalIgnoreCase)))
                list.Add($"{source}: job '{job}' scrapes service '{stage.Service.Name}'; name it after what it scrapes, e.g. 'pipeline-{stage.Service.Name}'");
        }
        var expectedTargets = stages.Where(s => s.MetricsPort is not null).Select(s => $"{s.Service.Name}:{s.MetricsPort}").ToHashSet(StringComparer.Ordinal);
        // A stage whose config did not load is already reported above; its targets cannot be judged.
        var unknown = PipelineServices.Keys.Where(name => !stages.Any(s => s.Service.Name == name)).ToHashSet(StringComparer.Ordinal);
        foreach (var (job, target) in scraped.Where(s => !expectedTargets.Contains(s.Target) && !unknown.Contains(s.Target.Split(':')[0])))
            list.Add($"{source}: job '{job}' scrapes {target}, which is not the metrics endpoint of any pipeline service in {compose.Source}");
        return list;
    }

    /// <summary>Every pipeline config bootstraps from a Kafka listener that is advertised to the compose network under the kafka service's name.</summary>
    public IReadOnlyList<string> KafkaBootstrapProblems()
    {
        if (!compose.Services.TryGetValue(Kafka, out var kafka)) return [$"{compose.Source}: no service '{Kafka}'"];
        var (stages, problems) = ResolveStages();
        var list = problems.ToList();
        var env = kafka.Environment;
        var kafkaWhere = Where(kafka);
        if (!env.TryGetValue("KAFKA_LISTENERS", out var listenersText)) return [.. list, $"{kafkaWhere} sets no KAFKA_LISTENERS"];
        var listeners = ParseListeners(listenersText);
        var advertised = ParseListeners(env.GetValueOrDefault("KAFKA_ADVERTISED_LISTENERS", ""));
        var controllers = env.GetValueOrDefault("KAFKA_CONTROLLER_LISTENER_NAMES", "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var protocols = env.GetValueOrDefault("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "")
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split(':')).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.OrdinalIgnoreCase);
        var names = kafka.NetworkNames;

        foreach (var stage in stages)
        {
            var where = $"{Where(stage.Service)}: {stage.ConfigFile} kafka.bootstrap = \"{stage.Config.Kafka.Bootstrap}\"";
            if (stage.Config.Kafka.IsEmbedded)
            {
                list.Add($"{where} runs a private in-memory broker in that container; use \"{Kafka}:<port>\"");
                continue;
            }
            var clientProtocol = stage.Config.Kafka.Properties.GetValueOrDefault("security.protocol", "PLAINTEXT");
            foreach (var entry in stage.Config.Kafka.Bootstrap.Split(',', StringSplitOptions.TrimEntries))
            {
                if (!TrySplitHostPort(entry, out var host, out int port)) { list.Add($"{where}: '{entry}' is not host:port"); continue; }
                if (!names.Contains(host))
                    list.Add($"{where} names host '{host}', which is not the Kafka service ({string.Join(" or ", names)})");
                var listener = listeners.FirstOrDefault(l => l.Port == port);
                if (listener is null)
                {
                    list.Add($"{where} uses port {port}, but {kafkaWhere} listens on {string.Join(", ", listeners.Select(l => $"{l.Name}:{l.Port}"))} (KAFKA_LISTENERS)");
                    continue;
                }
                if (controllers.Contains(listener.Name, StringComparer.OrdinalIgnoreCase))
                {
                    list.Add($"{where} uses port {port}, the KRaft controller listener {listener.Name} of {kafkaWhere}; clients must use a broker listener");
                    continue;
                }
                var protocol = protocols.GetValueOrDefault(listener.Name, listener.Name);
                if (!string.Equals(protocol, clientProtocol, StringComparison.OrdinalIgnoreCase))
                    list.Add($"{where} speaks {clientProtocol} (kafka.properties security.protocol), but listener {listener.Name} of {kafkaWhere} is {protocol}");
                var ad = advertised.FirstOrDefault(a => string.Equals(a.Name, listener.Name, StringComparison.OrdinalIgnoreCase));
                if (ad is null)
                    list.Add($"{where} uses listener {listener.Name} of {kafkaWhere}, which KAFKA_ADVERTISED_LISTENERS does not advertise");
                else if (!names.Contains(ad.Host) || ad.Port != port)
                    list.Add($"{where} uses listener {listener.Name}, but {kafkaWhere} advertises it as {ad.Host}:{ad.Port} (KAFKA_ADVERTISED_LISTENERS), an address the {stage.Service.Name} container cannot reach after bootstrap");
            }
        }
        return list;
    }

    /// <summary>The sinks write to the compose Elasticsearch service, on its HTTP port, with the scheme its security setting implies.</summary>
    public IReadOnlyList<string> ElasticsearchUrlProblems()
    {
        if (!compose.Services.TryGetValue(Elasticsearch, out var es)) return [$"{compose.Source}: no service '{Elasticsearch}'"];
        var (stages, problems) = ResolveStages();
        var list = problems.ToList();
        var sinks = stages.FirstOrDefault(s => PipelineServices[s.Service.Name] == "sink");
        if (sinks is not null && sinks.Config.Elasticsearch.Url.Length == 0)
            list.Add($"{Where(sinks.Service)}: {sinks.ConfigFile} has no elasticsearch.url, so the sinks would write NDJSON files instead of Elasticsearch");

        var esEnv = es.Environment;
        bool securityOn = !string.Equals(esEnv.GetValueOrDefault("xpack.security.enabled", "true"), "false", StringComparison.OrdinalIgnoreCase);
        int esPort = int.TryParse(esEnv.GetValueOrDefault("http.port", ""), out int configured) ? configured : ElasticsearchHttpPort;
        foreach (var stage in stages.Where(s => s.Config.Elasticsearch.Url.Length > 0))
        {
            var url = stage.Config.Elasticsearch.Url;
            var where = $"{Where(stage.Service)}: {stage.ConfigFile} elasticsearch.url = \"{url}\"";
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)) { list.Add($"{where} is not a URL"); continue; }
            if (!es.NetworkNames.Contains(uri.Host))
                list.Add($"{where} names host '{uri.Host}', which is not the Elasticsearch service '{Elasticsearch}'");
            if (esPort != ElasticsearchHttpPort)
                list.Add($"{Where(es)} sets http.port={esPort}; the deployment expects Elasticsearch's standard {ElasticsearchHttpPort}");
            if (uri.Port != esPort)
                list.Add($"{where} uses port {uri.Port}, but {Where(es)} serves HTTP on {esPort}");
            if (es.ContainerPorts.Count > 0 && !es.ContainerPorts.Any(p => p.ContainerPort == uri.Port))
                list.Add($"{where}: {Where(es)} declares container ports {string.Join(", ", es.ContainerPorts.Select(p => p.ContainerPort))}, not {uri.Port}");
            var scheme = securityOn ? "https" : "http";
            if (uri.Scheme != scheme)
                list.Add($"{where} uses {uri.Scheme}, but {Where(es)} has xpack.security.enabled={(securityOn ? "true" : "false")}, which serves {scheme}");
            if (!stage.Service.DependsOn.TryGetValue(Elasticsearch, out var condition) || condition != "service_healthy")
                list.Add($"{Where(stage.Service)} writes to Elasticsearch but does not depend_on {Elasticsearch} with condition service_healthy");
        }
        return list;
    }

    /// <summary>Pipeline services wait for a healthy Kafka, and every service_healthy dependency has a healthcheck to wait for.</summary>
    public IReadOnlyList<string> DependencyProblems()
    {
        var list = new List<string>();
        foreach (var name in PipelineServices.Keys)
        {
            if (!compose.Services.TryGetValue(name, out var service)) { list.Add($"{compose.Source}: no service '{name}'"); continue; }
            if (!service.DependsOn.TryGetValue(Kafka, out var condition))
                list.Add($"{Where(service)} does not depend_on {Kafka}");
            else if (condition != "service_healthy")
                list.Add($"{Where(service)} depends_on {Kafka} with condition {condition}; use service_healthy so it starts after the broker is ready");
        }
        foreach (var service in compose.Services.Values)
        {
            foreach (var (dependency, condition) in service.DependsOn)
            {
                if (!compose.Services.TryGetValue(dependency, out var target))
                    list.Add($"{Where(service)} depends_on '{dependency}', which is not a service");
                else if (condition == "service_healthy" && target.HealthcheckTest is null)
                    list.Add($"{Where(service)} waits for {dependency} to be healthy, but {Where(target)} has no healthcheck");
            }
        }
        return list;
    }

    /// <summary>The Grafana datasources provisioned through grafana's mount point at the compose prometheus service.</summary>
    public IReadOnlyList<string> GrafanaDatasourceProblems()
    {
        if (!compose.Services.TryGetValue(Grafana, out var grafana)) return [$"{compose.Source}: no service '{Grafana}'"];
        if (!compose.Services.TryGetValue(Prometheus, out var prometheus)) return [$"{compose.Source}: no service '{Prometheus}'"];
        var dir = MountedDirectory(grafana, "/etc/grafana/provisioning/datasources", out var problem);
        if (dir is null) return [problem!];
        var list = new List<string>();
        var prometheusPorts = prometheus.ContainerPorts.Select(p => p.ContainerPort).DefaultIfEmpty(9090).ToHashSet();
        int found = 0;
        foreach (var file in Directory.EnumerateFiles(dir).Where(f => f.EndsWith(".yml", StringComparison.Ordinal) || f.EndsWith(".yaml", StringComparison.Ordinal)))
        {
            var source = RepositoryRoot.Display(file);
            foreach (var ds in (Child(ParseYaml(File.ReadAllText(file)), "datasources") as YamlSequenceNode)?.Children ?? [])
            {
                if (Text(Child(ds, "type")) != "prometheus") continue;
                found++;
                var url = Text(Child(ds, "url"));
                if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !prometheus.NetworkNames.Contains(uri.Host) || !prometheusPorts.Contains(uri.Port))
                    list.Add($"{source}: datasource '{Text(Child(ds, "name"))}' url \"{url}\" is not the compose service '{Prometheus}' on port {string.Join("/", prometheusPorts)}");
            }
        }
        if (found == 0) list.Add($"{Where(grafana)}: {RepositoryRoot.Display(dir)} provisions no Prometheus datasource");
        return list;
    }

    public static bool TrySplitHostPort(string value, out string host, out int port)
    {
        host = "";
        port = 0;
        int colon = value.LastIndexOf(':');
        if (colon <= 0) return false;
        host = value[..colon].Trim('[', ']');
        return int.TryParse(value.AsSpan(colon + 1), out port) && port is > 0 and <= 65535 && host.Length > 0;
    }

    private sealed record KafkaListener(string Name, string Host, int Port);

    // "PLAINTEXT://kafka:9092,CONTROLLER://:9093" -> (PLAINTEXT, kafka, 9092), (CONTROLLER, "", 9093)
    private static List<KafkaListener> ParseListeners(string text)
    {
        var listeners = new List<KafkaListener>();
        foreach (var item in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int scheme = item.IndexOf("://", StringComparison.Ordinal);
            if (scheme <= 0) continue;
            var address = item[(scheme + 3)..];
            int colon = address.LastIndexOf(':');
            if (colon < 0 || !int.TryParse(address.AsSpan(colon + 1), out int port)) continue;
            listeners.Add(new KafkaListener(item[..scheme], address[..colon].Trim('[', ']'), port));
        }
        return listeners;
    }

    // The part of a glob before its first wildcard segment: "/var/log/**/*.log" -> "/var/log".
    private static string FixedPrefix(string pattern)
    {
        var segments = pattern.Split('/');
        int n = Array.FindIndex(segments, s => s.IndexOfAny(['*', '?', '[', '{']) >= 0);
        var fixedPart = string.Join('/', n < 0 ? segments : segments[..n]);
        return fixedPart.Length == 0 ? "/" : fixedPart;
    }

    private string? MountedFile(ComposeService service, string containerPath, out string? problem)
    {
        var hostPath = MountedPath(service, containerPath, out problem);
        if (hostPath is not null && !File.Exists(hostPath))
        {
            problem = $"{Where(service)} reads {containerPath}, mounted from {RepositoryRoot.Display(hostPath)}, which is not a file";
            return null;
        }
        return hostPath;
    }

    private string? MountedDirectory(ComposeService service, string containerPath, out string? problem)
    {
        var hostPath = MountedPath(service, containerPath, out problem);
        if (hostPath is not null && !Directory.Exists(hostPath))
        {
            problem = $"{Where(service)} reads {containerPath}, mounted from {RepositoryRoot.Display(hostPath)}, which is not a directory";
            return null;
        }
        return hostPath;
    }

    private string? MountedPath(ComposeService service, string containerPath, out string? problem)
    {
        problem = null;
        var mount = service.Mounts.Where(m => m.IsBind && m.Covers(containerPath)).MaxBy(m => m.Target.Length);
        var hostPath = mount is null ? null : HostPath(mount, containerPath);
        if (hostPath is null) problem = $"{Where(service)} reads {containerPath}, but no bind mount from the repository puts it there";
        return hostPath;
    }

    // The repository file behind containerPath, when mount is a bind mount from inside the repository.
    private string? HostPath(ComposeMount mount, string containerPath)
    {
        var source = InRepository(mount.Source);
        if (source is null) return null;
        var rest = containerPath[mount.Target.TrimEnd('/').Length..].TrimStart('/');
        return rest.Length == 0 ? source : Path.GetFullPath(Path.Combine(source, rest));
    }

    private string? InRepository(string relative)
    {
        if (!relative.StartsWith('.')) return null;
        var full = Path.GetFullPath(Path.Combine(repositoryRoot, relative));
        var root = Path.TrimEndingDirectorySeparator(repositoryRoot);
        return full == root || full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) ? full : null;
    }

    private string Where(ComposeService service) => $"{compose.Source}: service '{service.Name}'";

    // A port a healthcheck probes: bash's /dev/tcp/HOST/PORT, or a loopback URL.
    [GeneratedRegex(@"(/dev/tcp/[^/\s]+/|(?:localhost|127\.0\.0\.1):)(?<port>\d+)")]
    private static partial Regex HealthcheckPort();
}
