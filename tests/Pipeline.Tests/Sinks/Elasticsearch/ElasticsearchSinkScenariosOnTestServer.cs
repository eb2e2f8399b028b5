using Pipeline.Testing.Elasticsearch;

namespace Pipeline.Tests.Sinks.Elasticsearch;

/// <summary>The shared sink scenarios against the Elasticsearch test server.</summary>
[Collection(ElasticsearchSinkCollection.Name)]
public sealed class ElasticsearchSinkScenariosOnTestServer : ElasticsearchSinkScenarios, IAsyncLifetime
{
    private ElasticsearchTestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await ElasticsearchTestServer.StartAsync(cancellationToken: Ct);

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    protected override Uri ClusterUrl() => _server.Url;
}

/// <summary>Sink tests that read the process-wide metrics run one class at a time.</summary>
public static class ElasticsearchSinkCollection
{
    public const string Name = "elasticsearch sink";
}
