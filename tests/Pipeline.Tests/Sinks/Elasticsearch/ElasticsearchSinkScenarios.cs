using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Plumbing.Config;
using Pipeline.Schemas.Topics;
using Pipeline.Sinks;
using Pipeline.Sinks.Elasticsearch;
using Pipeline.Testing.Elasticsearch;

namespace Pipeline.Tests.Sinks.Elasticsearch;

/// <summary>
/// What the Elasticsearch sink must do against any Elasticsearch: the test server here, a real cluster where Docker
/// exists. Every test writes to its own namespace, so tests can share one cluster.
/// </summary>
public abstract class ElasticsearchSinkScenarios
{
    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The cluster to run against; skips the test when there is none.</summary>
    protected abstract Uri ClusterUrl();

    protected static string UniqueNamespace() => "t" + Guid.NewGuid().ToString("N")[..12];

    protected ElasticsearchBulkWriter NewWriter(string? @namespace = null) =>
        ElasticsearchBulkWriter.Create(new ElasticsearchConfig { Url = ClusterUrl().ToString(), Namespace = @namespace ?? "default" }, NullLogger.Instance);

    protected async Task<JsonElement> SearchAsync(string target, string query)
    {
        using var raw = new RawElasticsearchClient(ClusterUrl());
        await raw.PostAsync($"/{target}/_refresh", "", Ct);
        var response = await raw.PostAsync($"/{target}/_search", query, Ct);
        Assert.Equal(200, response.Status);
        return response.Body;
    }

    [Fact]
    public async Task NewDocumentsAreCreatedAndSearchableByTheirIds()
    {
        var ns = UniqueNamespace();
        await using var writer = NewWriter(ns);
        await writer.InitializeAsync(Ct);
        var batch = SampleEvents.LogRecords(5, ns);

        var results = await writer.WriteAsync(batch, Ct);

        Assert.All(results, r => Assert.Equal(ItemOutcome.Created, r.Outcome));
        var dataStream = TopicCatalog.Logs.DataStream(ns);
        var hits = await SearchAsync(dataStream, """{"query":{"match_all":{}},"size":100}""");
        Assert.Equal(5, hits.GetProperty("hits").GetProperty("total").GetProperty("value").GetInt32());
        var ids = hits.GetProperty("hits").GetProperty("hits").EnumerateArray().Select(h => h.GetProperty("_id").GetString()).Order();
        Assert.Equal(batch.Select(r => r.DocumentId).Order(), ids);
        var byId = await SearchAsync(dataStream, "{\"query\":{\"ids\":{\"values\":[\"" + batch[3].DocumentId + "\"]}}}");
        var source = byId.GetProperty("hits").GetProperty("hits")[0].GetProperty("_source");
        Assert.Equal(SampleEvents.Log(3).Message, source.GetProperty("message").GetString());
    }

    [Fact]
    public async Task TheSameBatchWrittenAgainIsAllDuplicate()
    {
        var ns = UniqueNamespace();
        await using var writer = NewWriter(ns);
        await writer.InitializeAsync(Ct);
        var batch = SampleEvents.LogRecords(4, ns);

        await writer.WriteAsync(batch, Ct);
        var again = await writer.WriteAsync(batch, Ct);

        Assert.All(again, r => Assert.Equal(ItemOutcome.Duplicate, r.Outcome));
        var hits = await SearchAsync(TopicCatalog.Logs.DataStream(ns), """{"query":{"match_all":{}}}""");
        Assert.Equal(4, hits.GetProperty("hits").GetProperty("total").GetProperty("value").GetInt32());
    }

    [Fact]
    public async Task ADocumentWithoutATimestampIntoADataStreamIsRejected()
    {
        var ns = UniqueNamespace();
        await using var writer = NewWriter(ns);
        await writer.InitializeAsync(Ct);
        var good = SampleEvents.LogRecords(1, ns)[0];
        var noTimestamp = good with { Value = """{"message":"when?","host":{"name":"web-1"}}"""u8.ToArray(), DocumentId = "no-ts" };

        var results = await writer.WriteAsync([noTimestamp, good], Ct);

        Assert.Equal(ItemOutcome.Rejected, results[0].Outcome);
        Assert.Equal("document_parsing_exception", results[0].ErrorType);
        Assert.Contains("@timestamp", results[0].ErrorReason);
        Assert.Equal(ItemOutcome.Created, results[1].Outcome);
    }

    [Fact]
    public async Task AValueTheTemplateMappingCannotTakeIsRejectedAndTheRestIsWritten()
    {
        var ns = UniqueNamespace();
        await using var writer = NewWriter(ns);
        await writer.InitializeAsync(Ct);
        var good = SampleEvents.LogRecords(1, ns)[0];
        var badOffset = good with
        {
            DocumentId = "bad-offset",
            Value = """{"@timestamp":"2025-03-14T15:09:26Z","host":{"name":"web-1"},"log":{"offset":"far"},"message":"m"}"""u8.ToArray(),
        };

        var results = await writer.WriteAsync([badOffset, good], Ct);

        Assert.Equal(ItemOutcome.Rejected, results[0].Outcome);
        Assert.Equal("document_parsing_exception", results[0].ErrorType);
        Assert.Equal(ItemOutcome.Created, results[1].Outcome);
    }

    [Fact]
    public async Task InitializeAsyncInstallsATemplatePerDataStreamAndIsIdempotent()
    {
        await using var writer = NewWriter();

        await writer.InitializeAsync(Ct);
        await writer.InitializeAsync(Ct);

        using var raw = new RawElasticsearchClient(ClusterUrl());
        foreach (var spec in TopicCatalog.All)
        {
            var response = await raw.GetAsync($"/_index_template/{IndexTemplates.TemplateName(spec)}", Ct);
            Assert.Equal(200, response.Status);
            var template = response.At("index_templates.0.index_template");
            Assert.Equal([IndexTemplates.IndexPattern(spec)], template.GetProperty("index_patterns").EnumerateArray().Select(p => p.GetString()));
            Assert.True(template.TryGetProperty("data_stream", out _));
            Assert.Equal(IndexTemplates.Priority, template.GetProperty("priority").GetInt32());
            Assert.Equal(IndexTemplates.LifecyclePolicyName, template.GetProperty("template").GetProperty("settings").GetProperty("index").GetProperty("lifecycle").GetProperty("name").GetString());
        }
        var policy = await raw.GetAsync($"/_ilm/policy/{IndexTemplates.LifecyclePolicyName}", Ct);
        Assert.Equal(200, policy.Status);
        Assert.Equal("1d", policy.At($"{IndexTemplates.LifecyclePolicyName}.policy.phases.hot.actions.rollover.max_age").GetString());
        Assert.Equal("30d", policy.At($"{IndexTemplates.LifecyclePolicyName}.policy.phases.delete.min_age").GetString());
    }

    [Fact]
    public async Task EveryPipelineEventKindFitsItsTemplate()
    {
        var ns = UniqueNamespace();
        await using var writer = NewWriter(ns);
        await writer.InitializeAsync(Ct);

        var results = await writer.WriteAsync(SampleEvents.OneOfEachKind(ns), Ct);

        Assert.All(results, r => Assert.True(r.Outcome == ItemOutcome.Created, $"{r.Outcome}: {r.ErrorType} {r.ErrorReason}"));
    }

    [Fact]
    public async Task LabelsAreKeywordsWhateverTheirValuesLookLike()
    {
        var ns = UniqueNamespace();
        await using var writer = NewWriter(ns);
        await writer.InitializeAsync(Ct);
        var first = SampleEvents.LogRecords(2, ns);
        var records = new List<SinkRecord>
        {
            first[0] with { Value = WithLabel(first[0].Value, "deployed", "2025-01-01") },
            first[1] with { Value = WithLabel(first[1].Value, "deployed", "yesterday") },
        };

        var results = await writer.WriteAsync(records, Ct);

        Assert.All(results, r => Assert.True(r.Outcome == ItemOutcome.Created, $"{r.Outcome}: {r.ErrorType} {r.ErrorReason}"));
    }

    private static byte[] WithLabel(byte[] value, string key, string labelValue)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(value)!;
        node["labels"]![key] = labelValue;
        return JsonSerializer.SerializeToUtf8Bytes(node);
    }
}
