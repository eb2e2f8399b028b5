using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Plumbing.Config;
using Pipeline.Schemas.Topics;
using Pipeline.Sinks.Elasticsearch;
using Pipeline.Testing.Elasticsearch;

namespace Pipeline.Tests.Sinks.Elasticsearch;

/// <summary>InitializeAsync: the templates that make the pipeline's data streams, and the clear failures when they cannot be installed.</summary>
[Collection(ElasticsearchSinkCollection.Name)]
public sealed class ElasticsearchTemplateInstallTests : IAsyncLifetime
{
    private ElasticsearchTestServer _server = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _server = await ElasticsearchTestServer.StartAsync(cancellationToken: Ct);

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private ElasticsearchBulkWriter NewWriter(ElasticsearchConfig config)
    {
        config.Url = _server.Url.ToString();
        return ElasticsearchBulkWriter.Create(config, NullLogger.Instance);
    }

    [Fact]
    public async Task EveryTopicGetsATemplateThatTurnsItsNamespacedStreamIntoADataStream()
    {
        await using var writer = NewWriter(new ElasticsearchConfig { Namespace = "prod" });

        await writer.InitializeAsync(Ct);
        await writer.WriteAsync(SampleEvents.OneOfEachKind("prod"), Ct);

        foreach (var spec in TopicCatalog.All)
        {
            Assert.Contains(IndexTemplates.TemplateName(spec), _server.IndexTemplateNames);
            Assert.True(_server.IsDataStream(spec.DataStream("prod")), spec.DataStream("prod"));
        }
        Assert.NotNull(_server.LifecyclePolicy(IndexTemplates.LifecyclePolicyName));
    }

    [Fact]
    public async Task TheTemplatesMapEcsFieldsToTheirTypes()
    {
        await using var writer = NewWriter(new ElasticsearchConfig());
        await writer.InitializeAsync(Ct);

        await writer.WriteAsync(SampleEvents.OneOfEachKind(), Ct);

        string? Type(TopicSpec spec, string field) => _server.FieldType(spec.DataStream("default"), field);
        Assert.Equal("date", Type(TopicCatalog.Logs, "@timestamp"));
        Assert.Equal("keyword", Type(TopicCatalog.Logs, "host.name"));
        Assert.Equal("keyword", Type(TopicCatalog.Logs, "event.id"));
        Assert.Equal("keyword", Type(TopicCatalog.Logs, "log.level"));
        Assert.Equal("long", Type(TopicCatalog.Logs, "log.offset"));
        Assert.Equal("text", Type(TopicCatalog.Logs, "message"));
        Assert.Equal("keyword", Type(TopicCatalog.Logs, "labels.env"));
        Assert.Equal("double", Type(TopicCatalog.Process, "process.cpu.pct"));
        Assert.Equal("long", Type(TopicCatalog.Process, "process.memory.rss"));
        Assert.Equal("double", Type(TopicCatalog.Probes, "probe.duration_ms"));
        Assert.Equal("keyword", Type(TopicCatalog.Alerts, "alert.fingerprint"));
        Assert.Equal("keyword", Type(TopicCatalog.Alerts, "alert.group.host.name"));
        Assert.Equal("date", Type(TopicCatalog.Alerts, "alert.started_at"));
        Assert.Equal("binary", Type(TopicCatalog.DeadLetter, "deadletter.original"));
    }

    [Fact]
    public async Task RunningInitializeTwiceChangesNothing()
    {
        await using var writer = NewWriter(new ElasticsearchConfig());

        await writer.InitializeAsync(Ct);
        var first = TopicCatalog.All.Select(s => _server.IndexTemplate(IndexTemplates.TemplateName(s))!.Value.GetRawText()).ToList();
        await writer.InitializeAsync(Ct);
        var second = TopicCatalog.All.Select(s => _server.IndexTemplate(IndexTemplates.TemplateName(s))!.Value.GetRawText()).ToList();

        Assert.Equal(first, second);
    }

    [Fact]
    public async Task CredentialsWithoutTheTemplatePrivilegeFailWithAMessageNamingIt()
    {
        _server.RequireApiKey("a2V5OnNlY3JldA==", canManageTemplates: false);
        await using var writer = NewWriter(new ElasticsearchConfig { ApiKey = "a2V5OnNlY3JldA==" });

        var error = await Assert.ThrowsAsync<ElasticsearchSetupException>(() => writer.InitializeAsync(Ct));

        Assert.Equal(403, error.Status);
        Assert.Contains("manage_index_templates", error.Message);
    }

    [Fact]
    public async Task CredentialsTheClusterRejectsFailWithAMessageNamingTheNeededPrivilege()
    {
        _server.RequireApiKey("a2V5OnNlY3JldA==");
        await using var writer = NewWriter(new ElasticsearchConfig { ApiKey = "d3Jvbmc6a2V5" });

        var error = await Assert.ThrowsAsync<ElasticsearchSetupException>(() => writer.InitializeAsync(Ct));

        Assert.Equal(401, error.Status);
        Assert.Contains("credentials", error.Message);
        Assert.Contains("manage_index_templates", error.Message);
        Assert.DoesNotContain("d3Jvbmc6a2V5", error.Message);
    }

    [Fact]
    public async Task AnUnreachableClusterFailsInitializeWithTheAddressInTheMessage()
    {
        var port = FreePort();
        await using var writer = ElasticsearchBulkWriter.Create(
            new ElasticsearchConfig { Url = $"http://127.0.0.1:{port}" }, NullLogger.Instance);

        var error = await Assert.ThrowsAsync<ElasticsearchSetupException>(() => writer.InitializeAsync(Ct));

        Assert.Contains($"127.0.0.1:{port}", error.Message);
        Assert.Null(error.Status);
    }

    [Fact]
    public async Task WithInstallTemplatesOffNothingIsInstalled()
    {
        await using var writer = NewWriter(new ElasticsearchConfig { InstallTemplates = false });

        await writer.InitializeAsync(Ct);

        Assert.Empty(_server.Requests);
        Assert.DoesNotContain(IndexTemplates.TemplateName(TopicCatalog.Logs), _server.IndexTemplateNames);
    }

    [Theory]
    [InlineData("")]
    [InlineData("localhost:9200")]
    [InlineData("ftp://es:21")]
    public void AUrlThatIsNotHttpIsRefusedWhenTheWriterIsCreated(string url)
    {
        var error = Assert.Throws<ArgumentException>(() => ElasticsearchBulkWriter.Create(new ElasticsearchConfig { Url = url }, NullLogger.Instance));

        Assert.Contains("elasticsearch.url", error.Message);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
