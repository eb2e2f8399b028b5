using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Kafka;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Schemas.Topics;
using Pipeline.Sinks;
using Pipeline.Sinks.Elasticsearch;
using Pipeline.Testing.Elasticsearch;

namespace Pipeline.Tests.Sinks.Elasticsearch;

/// <summary>The writer against the test server's injected faults: what Elasticsearch really answers when it is busy, broken or gone.</summary>
[Collection(ElasticsearchSinkCollection.Name)]
public sealed class ElasticsearchBulkWriterTests : IAsyncLifetime
{
    private ElasticsearchTestServer _server = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _server = await ElasticsearchTestServer.StartAsync(cancellationToken: Ct);

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private ElasticsearchBulkWriter NewWriter(ElasticsearchConfig? config = null, TimeSpan? requestTimeout = null)
    {
        config ??= new ElasticsearchConfig();
        config.Url = _server.Url.ToString();
        return ElasticsearchBulkWriter.Create(config, NullLogger.Instance, requestTimeout);
    }

    private async Task<ElasticsearchBulkWriter> InitializedWriterAsync()
    {
        var writer = NewWriter();
        await writer.InitializeAsync(Ct);
        return writer;
    }

    [Fact]
    public async Task TheWriterIsNamedElasticsearch()
    {
        await using var writer = NewWriter();

        Assert.Equal("elasticsearch", writer.Name);
    }

    [Fact]
    public async Task ABatchGoesAsOneGzippedNdjsonBulkRequestWithTheRecordBytesUnchanged()
    {
        await using var writer = await InitializedWriterAsync();
        var batch = SampleEvents.LogRecords(3);

        await writer.WriteAsync(batch, Ct);

        var bulk = Assert.Single(_server.Requests, r => r.Path.EndsWith("/_bulk", StringComparison.Ordinal));
        Assert.Equal("POST", bulk.Method);
        Assert.True(bulk.WasGzipped);
        Assert.StartsWith("application/x-ndjson", bulk.ContentType);
        Assert.Equal(1, _server.BulkRequestCount);
        Assert.Equal(3, _server.TotalItemsReceived);
        var stored = _server.Documents(TopicCatalog.Logs.DataStream("default"));
        Assert.Equal(batch.Select(r => r.Value), stored.Select(d => d.RawSource.ToArray()));
        Assert.Equal(batch.Select(r => r.DocumentId), stored.Select(d => d.Id));
    }

    [Fact]
    public async Task RejectedItemsAreRetriedAndOnlyThose()
    {
        await using var writer = await InitializedWriterAsync();
        var batch = SampleEvents.LogRecords(5);
        _server.RejectNextItems(2);

        var results = await writer.WriteAsync(batch, Ct);

        Assert.Equal([ItemOutcome.Retry, ItemOutcome.Retry, ItemOutcome.Created, ItemOutcome.Created, ItemOutcome.Created], results.Select(r => r.Outcome));
        Assert.Equal("es_rejected_execution_exception", results[0].ErrorType);
        Assert.False(string.IsNullOrEmpty(results[0].ErrorReason));

        var retried = await writer.WriteAsync([batch[0], batch[1]], Ct);
        Assert.All(retried, r => Assert.Equal(ItemOutcome.Created, r.Outcome));
        Assert.Equal(5, _server.Documents(TopicCatalog.Logs.DataStream("default")).Count);
    }

    [Fact]
    public async Task ItemsAnsweredWith5xxAreRetried()
    {
        await using var writer = await InitializedWriterAsync();
        _server.RejectNextItems(1, status: 503);

        var results = await writer.WriteAsync(SampleEvents.LogRecords(2), Ct);

        Assert.Equal(ItemOutcome.Retry, results[0].Outcome);
        Assert.Equal("unavailable_shards_exception", results[0].ErrorType);
        Assert.Equal(ItemOutcome.Created, results[1].Outcome);
    }

    [Fact]
    public async Task AFieldTheMappingRefusesIsRejectedWithTheErrorTypeAndOtherKindsAreWritten()
    {
        await using var writer = await InitializedWriterAsync();
        _server.MapFieldAsInvalid("log.offset", "mapping_exception");

        var results = await writer.WriteAsync(SampleEvents.OneOfEachKind(), Ct);

        Assert.Equal(ItemOutcome.Rejected, results[0].Outcome);
        Assert.Equal("mapping_exception", results[0].ErrorType);
        Assert.Contains("log.offset", results[0].ErrorReason);
        Assert.All(results.Skip(1), r => Assert.Equal(ItemOutcome.Created, r.Outcome));
    }

    [Fact]
    public async Task AStoppedServerMeansRetryForEveryRecordWithoutThrowing()
    {
        var writer = await InitializedWriterAsync();
        await using var _ = writer;
        await _server.DisposeAsync();

        var results = await writer.WriteAsync(SampleEvents.LogRecords(3), Ct);

        Assert.All(results, r => Assert.Equal(ItemOutcome.Retry, r.Outcome));
        Assert.Equal("connection_error", results[0].ErrorType);
    }

    [Fact]
    public async Task ADroppedConnectionMeansRetryForEveryRecord()
    {
        await using var writer = await InitializedWriterAsync();
        _server.DropNextConnections(1);

        var results = await writer.WriteAsync(SampleEvents.LogRecords(3), Ct);
        var again = await writer.WriteAsync(SampleEvents.LogRecords(3), Ct);

        Assert.All(results, r => Assert.Equal(ItemOutcome.Retry, r.Outcome));
        Assert.All(again, r => Assert.Equal(ItemOutcome.Created, r.Outcome));
    }

    [Theory]
    [InlineData(503, "unavailable_shards_exception")]
    [InlineData(429, "es_rejected_execution_exception")]
    [InlineData(500, "exception")]
    public async Task AWholeRequestFailureMeansRetryForEveryRecordWithTheServersErrorType(int status, string errorType)
    {
        await using var writer = await InitializedWriterAsync();
        _server.FailNextRequests(1, status);

        var results = await writer.WriteAsync(SampleEvents.LogRecords(4), Ct);

        Assert.All(results, r =>
        {
            Assert.Equal(ItemOutcome.Retry, r.Outcome);
            Assert.Equal(errorType, r.ErrorType);
        });
        Assert.Empty(_server.Documents(TopicCatalog.Logs.DataStream("default")));
    }

    [Fact]
    public async Task AnAnswerSlowerThanTheRequestTimeoutMeansRetryForEveryRecord()
    {
        await using var writer = NewWriter(requestTimeout: TimeSpan.FromMilliseconds(300));
        await writer.InitializeAsync(Ct);
        _server.ResponseDelay = TimeSpan.FromSeconds(3);

        var results = await writer.WriteAsync(SampleEvents.LogRecords(2), Ct);

        Assert.All(results, r => Assert.Equal(ItemOutcome.Retry, r.Outcome));
        Assert.Equal("timeout", results[0].ErrorType);
    }

    [Fact]
    public async Task CancellingAWriteThrowsInsteadOfReportingRetries()
    {
        await using var writer = await InitializedWriterAsync();
        _server.ResponseDelay = TimeSpan.FromSeconds(5);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cancel.CancelAfter(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writer.WriteAsync(SampleEvents.LogRecords(2), cancel.Token));
    }

    [Fact]
    public async Task ARequestTooLargeForTheClusterIsSplitUntilItFitsAndAnOversizedDocumentIsRejected()
    {
        await using var writer = await InitializedWriterAsync();
        var records = SampleEvents.LogRecords(8);
        var noise = Convert.ToBase64String(Enumerable.Range(0, 3000).Select(i => (byte)Random.Shared.Next(256)).ToArray());
        var padded = records.Select(r => r with { Value = WithField(r.Value, "padding", noise[..900]) }).ToList();
        padded[5] = padded[5] with { Value = WithField(records[5].Value, "padding", noise) };
        _server.MaxContentLength = 2600;

        var results = await writer.WriteAsync(padded, Ct);

        Assert.Equal(ItemOutcome.Rejected, results[5].Outcome);
        Assert.Equal("request_entity_too_large", results[5].ErrorType);
        Assert.All(results.Where((_, i) => i != 5), r => Assert.Equal(ItemOutcome.Created, r.Outcome));
        Assert.True(_server.BulkRequestCount > 3, $"only {_server.BulkRequestCount} bulk requests");
        Assert.Equal(7, _server.Documents(TopicCatalog.Logs.DataStream("default")).Count);
    }

    [Fact]
    public async Task AValueWithRawNewlinesStaysOneNdjsonLine()
    {
        await using var writer = await InitializedWriterAsync();
        var record = SampleEvents.LogRecords(1)[0];
        var pretty = JsonSerializer.SerializeToUtf8Bytes(JsonDocument.Parse(record.Value).RootElement, new JsonSerializerOptions { WriteIndented = true });
        Assert.Contains((byte)'\n', pretty);

        var results = await writer.WriteAsync([record with { Value = pretty }], Ct);

        Assert.Equal(ItemOutcome.Created, results[0].Outcome);
        var stored = Assert.Single(_server.Documents(TopicCatalog.Logs.DataStream("default")));
        Assert.Equal(SampleEvents.Log(0).Message, stored.Source.GetProperty("message").GetString());
    }

    [Fact]
    public async Task AnEmptyValueIsRejectedWithoutBeingSent()
    {
        await using var writer = await InitializedWriterAsync();
        var record = SampleEvents.LogRecords(1)[0];

        var results = await writer.WriteAsync([record with { Value = " \n"u8.ToArray() }], Ct);

        Assert.Equal(ItemOutcome.Rejected, results[0].Outcome);
        Assert.Equal(0, _server.BulkRequestCount);
    }

    [Fact]
    public async Task AnEmptyBatchSendsNothing()
    {
        await using var writer = await InitializedWriterAsync();

        var results = await writer.WriteAsync([], Ct);

        Assert.Empty(results);
        Assert.Equal(0, _server.BulkRequestCount);
    }

    [Fact]
    public async Task SeveralBatchesInFlightAtOnceAreAllWritten()
    {
        await using var writer = await InitializedWriterAsync();
        _server.ResponseDelay = TimeSpan.FromMilliseconds(100);

        var writes = Enumerable.Range(0, 4).Select(i => writer.WriteAsync(SampleEvents.LogRecords(25, first: i * 25), Ct)).ToList();
        var results = await Task.WhenAll(writes);

        Assert.All(results.SelectMany(r => r), r => Assert.Equal(ItemOutcome.Created, r.Outcome));
        Assert.Equal(100, _server.Documents(TopicCatalog.Logs.DataStream("default")).Count);
        Assert.Equal(4, _server.BulkRequestCount);
    }

    [Fact]
    public async Task AnApiKeyIsSentAsTheApiKeyAuthorizationHeader()
    {
        const string key = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==";
        _server.RequireApiKey(key);
        await using var writer = NewWriter(new ElasticsearchConfig { ApiKey = key, Username = "ignored", Password = "ignored" });
        await writer.InitializeAsync(Ct);

        var results = await writer.WriteAsync(SampleEvents.LogRecords(1), Ct);

        Assert.Equal(ItemOutcome.Created, results[0].Outcome);
        Assert.All(_server.Requests, r => Assert.Equal("ApiKey " + key, r.Authorization));
    }

    [Fact]
    public async Task BasicAuthIsUsedWhenThereIsNoApiKey()
    {
        _server.RequireBasicAuth("pipeline", "s3cret");
        await using var writer = NewWriter(new ElasticsearchConfig { Username = "pipeline", Password = "s3cret" });
        await writer.InitializeAsync(Ct);

        var results = await writer.WriteAsync(SampleEvents.LogRecords(1), Ct);

        Assert.Equal(ItemOutcome.Created, results[0].Outcome);
        Assert.All(_server.Requests, r => Assert.StartsWith("Basic ", r.Authorization));
    }

    [Fact]
    public async Task RejectedCredentialsOnAWriteMeanRetryNotDeadLetters()
    {
        _server.RequireBasicAuth("pipeline", "s3cret");
        await using var writer = NewWriter(new ElasticsearchConfig { Username = "pipeline", Password = "wrong", InstallTemplates = false });

        var results = await writer.WriteAsync(SampleEvents.LogRecords(2), Ct);

        Assert.All(results, r =>
        {
            Assert.Equal(ItemOutcome.Retry, r.Outcome);
            Assert.Equal("security_exception", r.ErrorType);
        });
    }

    [Fact]
    public async Task OutcomesAreCountedOnceInTheSinkItemsMetric()
    {
        // Counting is BatchDelivery's, for every backend; the writer counting too would count every document twice.
        await using var writer = await InitializedWriterAsync();
        using var broker = new EmbeddedBroker();
        broker.CreateTopics();
        using var producer = new ProducerBuilder<byte[], byte[]>(new KafkaSettings(new KafkaConfig(), broker.Bootstrap, true).Producer("t")).Build();
        var delivery = new BatchDelivery(writer, producer, "h", TimeSpan.Zero, NullLogger.Instance);
        var batch = SampleEvents.LogRecords(4);
        var before = Counts();

        _server.RejectNextItems(1);
        await delivery.DeliverAsync(batch, Ct);                                // 4 created, 1 of them after a retry
        await delivery.DeliverAsync(batch[..1], Ct);                           // 1 duplicate
        _server.MapFieldAsInvalid("log.level");
        await delivery.DeliverAsync(SampleEvents.LogRecords(3, first: 10), Ct); // 3 rejected (dead-lettered)

        var after = Counts();
        Assert.Equal(4, after.Created - before.Created);
        Assert.Equal(1, after.Duplicate - before.Duplicate);
        Assert.Equal(1, after.Retried - before.Retried);
        Assert.Equal(3, after.Rejected - before.Rejected);
    }

    private static (double Created, double Duplicate, double Retried, double Rejected) Counts() =>
    (
        PipelineMetrics.BulkItems.WithLabels("elasticsearch", "created").Value,
        PipelineMetrics.BulkItems.WithLabels("elasticsearch", "duplicate").Value,
        PipelineMetrics.BulkItems.WithLabels("elasticsearch", "retried").Value,
        PipelineMetrics.BulkItems.WithLabels("elasticsearch", "rejected").Value
    );

    private static byte[] WithField(byte[] value, string name, string fieldValue)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(value)!;
        node[name] = fieldValue;
        return Encoding.UTF8.GetBytes(node.ToJsonString());
    }
}
