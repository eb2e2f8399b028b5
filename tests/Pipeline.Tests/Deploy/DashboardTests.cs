using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Schemas.Topics;
using Pipeline.Sinks.Elasticsearch;
using Pipeline.Sinks.Metrics;
using Pipeline.Testing;
using YamlDotNet.RepresentationModel;

namespace Pipeline.Tests.Deploy;

/// <summary>
/// What users open first: the Kibana saved objects, the Grafana dashboard and the Prometheus rules. No Kibana or Grafana
/// can run here, so these check that every field and series they use is one the pipeline really writes or serves, that
/// every reference resolves, and that compose loads them; Prometheus' own promtool checks its files.
/// </summary>
public partial class DashboardTests
{
    private static readonly string PrometheusDir = Path.Combine(RepositoryRoot.Path, "deploy", "prometheus");

    private static DeploymentChecks Checks() => new(ComposeFile.Load(Path.Combine(RepositoryRoot.Path, "docker-compose.yml")), RepositoryRoot.Path);

    private static void AssertNone(IReadOnlyList<string> problems)
    {
        if (problems.Count > 0) Assert.Fail($"{problems.Count} problem(s):{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", problems));
    }

    [Fact]
    public void PrometheusLoadsTheRulesFileComposeMountsBesideItsConfig() => AssertNone(Checks().PrometheusRuleFileProblems());

    [Theory]
    [InlineData("check", "config", "prometheus.yml")]
    [InlineData("check", "rules", "rules.yml")]
    [InlineData("test", "rules", "rules.test.yml")]
    public async Task PromtoolAcceptsTheDeployedFiles(string verb, string what, string file)
    {
        if (Peers.MissingReason("promtool", "prometheus") is { } reason) Assert.Skip(reason);
        var result = await Peers.RunAsync("promtool", [verb, what, file], workingDirectory: PrometheusDir);
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public void KibanaImportsTheSavedObjectsAtComposeStart()
    {
        AssertNone(Checks().KibanaSavedObjectsProblems(out var file));
        Assert.NotNull(file);
    }

    [Fact]
    public void TheKibanaSavedObjectsHaveADataViewPerDataStreamAndEveryReferenceAndFieldExists()
    {
        Checks().KibanaSavedObjectsProblems(out var file);
        var objects = File.ReadAllLines(file!).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var byId = objects.ToDictionary(o => (o.GetProperty("type").GetString()!, o.GetProperty("id").GetString()!));
        var problems = new List<string>();

        var patterns = objects.Where(o => o.GetProperty("type").GetString() == "index-pattern")
            .ToDictionary(o => o.GetProperty("id").GetString()!, o => o.GetProperty("attributes").GetProperty("title").GetString()!);
        foreach (var spec in new[] { TopicCatalog.Logs, TopicCatalog.Process, TopicCatalog.Probes, TopicCatalog.Alerts })
        {
            if (!patterns.ContainsValue(IndexTemplates.IndexPattern(spec))) problems.Add($"no data view for {IndexTemplates.IndexPattern(spec)}");
        }

        foreach (var o in objects)
        {
            var name = $"{o.GetProperty("type").GetString()} {o.GetProperty("id").GetString()}";
            foreach (var reference in o.GetProperty("references").EnumerateArray())
            {
                var key = (reference.GetProperty("type").GetString()!, reference.GetProperty("id").GetString()!);
                if (!byId.ContainsKey(key)) problems.Add($"{name} references {key}, which is not in the file");
            }
            var attributes = o.GetProperty("attributes");
            var pattern = o.GetProperty("references").EnumerateArray().Select(r => r.GetProperty("id").GetString()!).FirstOrDefault(patterns.ContainsKey);
            if (pattern is null) continue;
            var template = IndexTemplates.For(TopicCatalog.All.Single(s => IndexTemplates.IndexPattern(s) == patterns[pattern]));
            var fields = new List<string>();
            if (attributes.TryGetProperty("visState", out var visState))
            {
                foreach (var agg in JsonDocument.Parse(visState.GetString()!).RootElement.GetProperty("aggs").EnumerateArray())
                {
                    if (agg.GetProperty("params").TryGetProperty("field", out var field)) fields.Add(field.GetString()!);
                }
            }
            if (attributes.TryGetProperty("columns", out var columns)) fields.AddRange(columns.EnumerateArray().Select(c => c.GetString()!));
            foreach (var field in fields.Where(f => !IsMapped(template, f))) problems.Add($"{name} uses field {field}, which the {patterns[pattern]} template does not map");
        }

        var dashboard = byId[("dashboard", "pipeline-dashboard")];
        var panels = JsonDocument.Parse(dashboard.GetProperty("attributes").GetProperty("panelsJSON").GetString()!).RootElement;
        var refNames = dashboard.GetProperty("references").EnumerateArray().Select(r => r.GetProperty("name").GetString()).ToHashSet();
        foreach (var panel in panels.EnumerateArray())
        {
            if (!refNames.Contains(panel.GetProperty("panelRefName").GetString())) problems.Add($"dashboard panel {panel.GetProperty("panelIndex")} has no reference");
        }
        Assert.True(panels.GetArrayLength() >= 5, "hosts, top CPU processes, error rate, probe status, alerts");
        AssertNone(problems);
    }

    [Fact]
    public void GrafanaProvisionsTheDashboardWithTheProvisionedDatasource()
    {
        AssertNone(Checks().GrafanaDashboardProblems(out var dashboards));
        Assert.NotEmpty(dashboards);
    }

    [Fact]
    public void EverySeriesTheDashboardAndTheRulesUseIsOneThePipelineServes()
    {
        Checks().GrafanaDashboardProblems(out var dashboards);
        var known = ServedMetricNames();
        var rules = ComposeFile.ParseYaml(File.ReadAllText(Path.Combine(PrometheusDir, "rules.yml")));
        var recorded = new HashSet<string>(StringComparer.Ordinal);
        var expressions = new List<(string Where, string Expr)>();
        foreach (var group in ((YamlSequenceNode)ComposeFile.Child(rules, "groups")!).Children)
        {
            foreach (var rule in ((YamlSequenceNode)ComposeFile.Child(group, "rules")!).Children)
            {
                if (ComposeFile.Child(rule, "record") is { } record) recorded.Add(ComposeFile.Text(record));
                expressions.Add(("rules.yml " + ComposeFile.Text(ComposeFile.Child(rule, "record") ?? ComposeFile.Child(rule, "alert"))!, ComposeFile.Text(ComposeFile.Child(rule, "expr"))));
            }
        }
        foreach (var dashboard in dashboards)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(dashboard));
            foreach (var panel in doc.RootElement.GetProperty("panels").EnumerateArray())
            {
                if (!panel.TryGetProperty("targets", out var targets)) continue;
                foreach (var target in targets.EnumerateArray()) expressions.Add((panel.GetProperty("title").GetString()!, target.GetProperty("expr").GetString()!));
            }
        }

        var problems = new List<string>();
        foreach (var (where, expr) in expressions)
        {
            foreach (Match m in MetricName().Matches(expr))
            {
                var name = m.Value;
                var family = Regex.Replace(name, "_(bucket|sum|count)$", "");
                if (!known.Contains(name) && !known.Contains(family) && !recorded.Contains(name)) problems.Add($"{where}: {name} is not served by the pipeline");
            }
        }
        Assert.True(expressions.Count > 20);
        AssertNone(problems);
    }

    // Every family the pipeline's /metrics serves: the self-metrics and runtime gauges, and the exporter's series.
    private static HashSet<string> ServedMetricNames()
    {
        PipelineMetrics.EnsureRegistered();
        using var stream = new MemoryStream();
        Prometheus.Metrics.DefaultRegistry.CollectAndExportAsTextAsync(stream).GetAwaiter().GetResult();
        var names = Encoding.UTF8.GetString(stream.ToArray()).Split('\n')
            .Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2]).ToHashSet(StringComparer.Ordinal);
        names.UnionWith(EventMetrics.Names);
        names.Add("up");
        return names;
    }

    private static bool IsMapped(string template, string field)
    {
        // The template's properties nest; a field is mapped when each of its segments appears as a property name, in order.
        int at = 0;
        foreach (var segment in field.Split('.'))
        {
            at = template.IndexOf($"\"{segment}\"", at, StringComparison.Ordinal);
            if (at < 0) return false;
        }
        return true;
    }

    [GeneratedRegex(@"\b(?:ops|pipeline|dotnet|process|http)(?:_[a-z0-9]+)+\b|\b[a-z]+:[a-z0-9_]+:[a-z0-9_]+\b")]
    private static partial Regex MetricName();
}
