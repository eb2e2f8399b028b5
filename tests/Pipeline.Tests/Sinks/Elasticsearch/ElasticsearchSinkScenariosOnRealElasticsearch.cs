using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;

namespace Pipeline.Tests.Sinks.Elasticsearch;

/// <summary>
/// A real single-node Elasticsearch in Docker, started once for the class. Where Docker is not available the
/// scenarios are skipped with the reason, rather than silently passing.
/// </summary>
public sealed class RealElasticsearch : IAsyncLifetime
{
    public const string Image = "docker.elastic.co/elasticsearch/elasticsearch:9.1.0";

    private IContainer? _container;

    public Uri? Url { get; private set; }

    public string? SkipReason { get; private set; }

    public async ValueTask InitializeAsync()
    {
        try
        {
            _container = new ContainerBuilder(Image)
                .WithEnvironment("discovery.type", "single-node")
                .WithEnvironment("xpack.security.enabled", "false")
                .WithEnvironment("ES_JAVA_OPTS", "-Xms512m -Xmx512m")
                .WithPortBinding(9200, true)
                .WithWaitStrategy(Wait.ForUnixContainer().UntilHttpRequestIsSucceeded(r => r.ForPort(9200).ForPath("/_cluster/health?wait_for_status=yellow")))
                .Build();
            await _container.StartAsync(TestContext.Current.CancellationToken);
            Url = new UriBuilder("http", _container.Hostname, _container.GetMappedPublicPort(9200)).Uri;
        }
        catch (DockerUnavailableException e)
        {
            SkipReason = "Docker is not available here: " + e.Message.Split('\n')[0].Trim();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_container is not null) await _container.DisposeAsync();
    }
}

/// <summary>The shared sink scenarios against a real Elasticsearch 9 container (Testcontainers generic container).</summary>
[Collection(ElasticsearchSinkCollection.Name)]
public sealed class ElasticsearchSinkScenariosOnRealElasticsearch(RealElasticsearch cluster)
    : ElasticsearchSinkScenarios, IClassFixture<RealElasticsearch>
{
    protected override Uri ClusterUrl()
    {
        if (cluster.SkipReason is not null) Assert.Skip(cluster.SkipReason);
        return cluster.Url!;
    }
}
