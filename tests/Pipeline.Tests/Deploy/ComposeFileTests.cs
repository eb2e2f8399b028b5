using Pipeline.Testing;
using YamlDotNet.RepresentationModel;

namespace Pipeline.Tests.Deploy;

/// <summary>
/// docker-compose.yml cannot be started here (no Docker engine), so these tests check what a start
/// would otherwise find out the hard way: that the compose file, the pipeline configs it mounts and
/// the Prometheus and Grafana files agree on services, ports, hosts, mounts and start-up order.
/// </summary>
public class ComposeFileTests
{
    private static readonly string ComposePath = Path.Combine(RepositoryRoot.Path, "docker-compose.yml");

    private static DeploymentChecks Checks() => new(ComposeFile.Load(ComposePath), RepositoryRoot.Path);

    [Fact]
    public void EveryServiceOfTheDeploymentIsDefined() => AssertNone(Checks().MissingServices());

    [Fact]
    public void EveryRepositoryPathTheComposeFileMountsOrBuildsFromExists() => AssertNone(Checks().MissingHostPaths());

    [Fact]
    public void EveryPipelineServiceRunsItsStageWithAConfigThatLoadsAndIsMountedWhereItPoints()
    {
        var checks = Checks();
        AssertNone(checks.ConfigProblems());
        Assert.Equal(DeploymentChecks.PipelineServices.Keys.Order(), checks.ResolveStages().Stages.Select(s => s.Service.Name).Order());
    }

    [Fact]
    public void EachPipelineServiceExposesThePortItsConfigServesMetricsOn() => AssertNone(Checks().MetricsPortProblems());

    [Fact]
    public void PrometheusScrapesExactlyThePipelineServicesOnTheirMetricsPorts() => AssertNone(Checks().PrometheusTargetProblems());

    [Fact]
    public void EveryPipelineConfigBootstrapsFromAKafkaListenerAdvertisedOnTheComposeNetwork() => AssertNone(Checks().KafkaBootstrapProblems());

    [Fact]
    public void TheSinksWriteToTheComposeElasticsearchServiceOnPort9200() => AssertNone(Checks().ElasticsearchUrlProblems());

    [Fact]
    public void EveryPipelineServiceWaitsForAHealthyKafka() => AssertNone(Checks().DependencyProblems());

    [Fact]
    public void GrafanaReadsFromTheComposePrometheusService() => AssertNone(Checks().GrafanaDatasourceProblems());

    // The checks above pass only if they can fail: each test below breaks one thing in an in-memory
    // copy and expects the matching check to name the service and the file.

    [Fact]
    public void AMetricsPortThatDisagreesWithTheConfigIsReportedWithTheServiceAndFile()
    {
        var root = ComposeFile.ParseYaml(File.ReadAllText(ComposePath));
        var processors = (YamlMappingNode)ServiceNode(root, "processors");
        processors.Children[new YamlScalarNode("expose")] = new YamlSequenceNode(new YamlScalarNode("9999"));
        processors.Children[new YamlScalarNode("ports")] = new YamlSequenceNode(new YamlScalarNode("127.0.0.1:9465:9999"));

        var problems = new DeploymentChecks(ComposeFile.FromRoot(root, "docker-compose.yml (modified)"), RepositoryRoot.Path).MetricsPortProblems();

        Assert.Contains(problems, p => p.Contains("service 'processors'") && p.Contains("9999") && p.Contains("deploy/pipeline/processors.toml"));
        Assert.DoesNotContain(problems, p => p.Contains("service 'agent'") || p.Contains("service 'sinks'"));
    }

    [Fact]
    public void APrometheusFileThatMissesAStageOrScrapesAStrangerIsReported()
    {
        const string prometheus = """
            scrape_configs:
              - job_name: pipeline-agent
                static_configs: [{ targets: ["agent:9464"] }]
              - job_name: pipeline-processors
                static_configs: [{ targets: ["processors:9464"] }]
              - job_name: pipeline-sinks
                static_configs: [{ targets: ["sinks:9100"] }]
            """;

        var problems = Checks().PrometheusTargetProblems(prometheus, "prometheus.yml (modified)");

        Assert.Contains(problems, p => p.Contains("does not scrape sinks:9464") && p.Contains("service 'sinks'") && p.Contains("deploy/pipeline/sinks.toml"));
        Assert.Contains(problems, p => p.Contains("scrapes sinks:9100"));
        Assert.Equal(2, problems.Count);
    }

    [Fact]
    public void AKafkaListenerAdvertisedOnlyToTheHostIsReportedForEveryStage()
    {
        var root = ComposeFile.ParseYaml(File.ReadAllText(ComposePath));
        var environment = (YamlMappingNode)((YamlMappingNode)ServiceNode(root, DeploymentChecks.Kafka)).Children[new YamlScalarNode("environment")];
        environment.Children[new YamlScalarNode("KAFKA_ADVERTISED_LISTENERS")] = new YamlScalarNode("PLAINTEXT://localhost:9092,HOST://localhost:29092");

        var problems = new DeploymentChecks(ComposeFile.FromRoot(root, "docker-compose.yml (modified)"), RepositoryRoot.Path).KafkaBootstrapProblems();

        foreach (var service in DeploymentChecks.PipelineServices.Keys)
            Assert.Contains(problems, p => p.Contains($"service '{service}'") && p.Contains("advertises it as localhost:9092") && p.Contains($"deploy/pipeline/{service}.toml"));
    }

    private static YamlNode ServiceNode(YamlMappingNode root, string name)
        => ((YamlMappingNode)root.Children[new YamlScalarNode("services")]).Children[new YamlScalarNode(name)];

    private static void AssertNone(IReadOnlyList<string> problems)
    {
        if (problems.Count > 0) Assert.Fail($"{problems.Count} problem(s) in the deployment files:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", problems));
    }
}
