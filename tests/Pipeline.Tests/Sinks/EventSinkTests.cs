using Pipeline.Plumbing.Telemetry;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Topics;
using Pipeline.Testing;
using Pipeline.Tests.Sinks.Elasticsearch;

namespace Pipeline.Tests.Sinks;

/// <summary>
/// The whole sink (consumer, batching, bulk requests in flight, retries, dead letters, commits) against the embedded
/// broker and the Elasticsearch test server, in this process.
/// </summary>
[Collection(ElasticsearchSinkCollection.Name)]
public sealed class EventSinkTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private SinkHarness _h = null!;

    public async ValueTask InitializeAsync() => _h = await SinkHarness.StartAsync();

    public ValueTask DisposeAsync() => _h.DisposeAsync();

    private string Logs => TopicCatalog.Logs.DataStream("default");

    private Task WaitForDocuments(int count) =>
        Eventually.Get(() => Task.FromResult<int?>(_h.Es.Documents(Logs).Count), n => n >= count, Patience, $"{count} documents");

    private Task WaitForCommits(string group) =>
        Eventually.True(() => _h.Committed(group, TopicCatalog.Logs).Zip(_h.Ends(TopicCatalog.Logs)).All(p => p.Second == 0 || p.First == p.Second), Patience, "every offset committed");

    private static (double Created, double Duplicate, double Retried, double Rejected) Items() =>
    (
        PipelineMetrics.BulkItems.WithLabels("elasticsearch", "created").Value,
        PipelineMetrics.BulkItems.WithLabels("elasticsearch", "duplicate").Value,
        PipelineMetrics.BulkItems.WithLabels("elasticsearch", "retried").Value,
        PipelineMetrics.BulkItems.WithLabels("elasticsearch", "rejected").Value
    );

    [Fact]
    public async Task ABatchIsSentWhenItReachesItsCountAndTheRestAfterLinger()
    {
        await _h.ProduceLogsAsync(250);
        var sink = await _h.StartSinkAsync(_h.Config(batchSize: 100, inFlight: 1, linger: "300ms"));

        await WaitForDocuments(250);
        await sink.StopAsync(CancellationToken.None);

        var bulks = _h.Es.Requests.Where(r => r.Path.EndsWith("/_bulk", StringComparison.Ordinal)).ToList();
        Assert.Equal(250, _h.Es.TotalItemsReceived);
        Assert.True(bulks.Count >= 3, string.Join(", ", bulks));
        Assert.All(bulks, b => Assert.True(b.WasGzipped));
    }

    [Fact]
    public async Task ABatchIsSentWhenItReachesItsByteLimit()
    {
        var events = await _h.ProduceLogsAsync(300);
        const int maxBytes = 4096;
        var sink = await _h.StartSinkAsync(_h.Config(batchSize: 10_000, maxBytes: maxBytes, linger: "2s"));

        await WaitForDocuments(300);
        await sink.StopAsync(CancellationToken.None);

        var bulks = _h.Es.Requests.Where(r => r.Path.EndsWith("/_bulk", StringComparison.Ordinal)).ToList();
        long valueBytes = events.Sum(e => (long)Pipeline.Schemas.Serialization.EventSerializer.Serialize(e).Length);
        Assert.True(bulks.Count >= valueBytes / maxBytes, $"{bulks.Count} bulk requests for {valueBytes} bytes");
        // Values up to the limit plus the record that crossed it, plus an action line per record.
        Assert.All(bulks, b => Assert.True(b.BodyBytes < 2 * maxBytes, $"a bulk body of {b.BodyBytes} bytes"));
    }

    [Fact]
    public async Task SeveralBulkRequestsAreInFlightButNeverMoreThanConfigured()
    {
        await _h.ProduceLogsAsync(600);
        _h.Es.ResponseDelay = TimeSpan.FromMilliseconds(300);
        var sink = await _h.StartSinkAsync(_h.Config(batchSize: 50, inFlight: 3, linger: "50ms"));

        await WaitForDocuments(600);
        await WaitForCommits("sinks");
        await sink.StopAsync(CancellationToken.None);

        Assert.Equal(3, _h.Es.MaxConcurrentBulkRequests);
        Assert.Equal(600, _h.Es.Documents(Logs).Select(d => d.Id).Distinct().Count());
    }

    [Fact]
    public async Task A429StormDeliversEveryDocumentExactlyOnce()
    {
        var events = await _h.ProduceLogsAsync(2000);
        _h.Es.RejectNextItems(1500);
        var before = Items();
        var sink = await _h.StartSinkAsync(_h.Config(batchSize: 200, inFlight: 2));

        await WaitForDocuments(2000);
        await WaitForCommits("sinks");
        await sink.StopAsync(CancellationToken.None);

        var docs = _h.Es.Documents(Logs);
        Assert.Equal(2000, docs.Count);
        Assert.Equal(events.Select(e => e.Event.Id).Order(), docs.Select(d => d.Id).Order());
        // Only the rejected items were sent again, each once per rejection: nothing was re-sent that had been written.
        Assert.Equal(2000 + 1500, _h.Es.TotalItemsReceived);
        var after = Items();
        Assert.Equal(2000, after.Created - before.Created);
        Assert.Equal(1500, after.Retried - before.Retried);
        Assert.Equal(0, after.Duplicate - before.Duplicate);
        Assert.Equal(0, after.Rejected - before.Rejected);
    }

    [Fact]
    public async Task DocumentsTheMappingRefusesGoToTheDeadLetterTopicWithTheElasticsearchErrorAndAreCommitted()
    {
        await _h.ProduceLogsAsync(20);
        await _h.ProduceLogsAsync(3, first: 100, change: e => e with { Log = e.Log with { Flags = [LogFlags.Truncated] } });
        _h.Es.MapFieldAsInvalid("log.flags", "mapping_exception");
        var sink = await _h.StartSinkAsync(_h.Config());

        await WaitForDocuments(20);
        await WaitForCommits("sinks");
        await sink.StopAsync(CancellationToken.None);

        Assert.Equal(20, _h.Es.Documents(Logs).Count);
        var letters = _h.DeadLetters();
        Assert.Equal(3, letters.Count);
        Assert.All(letters, l =>
        {
            Assert.Equal("mapping_exception", l.DeadLetter.Reason);
            Assert.Equal("sinks.elasticsearch", l.DeadLetter.Stage);
            Assert.Equal(TopicCatalog.Logs.Name, l.DeadLetter.Source.Topic);
            Assert.Contains("log.flags", l.Error.Message);
            Assert.Contains("truncated", System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(l.DeadLetter.Original)));
        });
    }

    [Fact]
    public async Task AReplayOfEverythingIsAnsweredWith409AndIndexesNothingTwice()
    {
        await _h.ProduceLogsAsync(300);
        var first = await _h.StartSinkAsync(_h.Config(group: "first"));
        await WaitForDocuments(300);
        await WaitForCommits("first");
        await first.StopAsync(CancellationToken.None);
        var before = Items();

        // A new group reads everything again, as a sink restarted without its offsets would.
        var replay = await _h.StartSinkAsync(_h.Config(group: "replay"));
        await WaitForCommits("replay");
        await replay.StopAsync(CancellationToken.None);

        var after = Items();
        Assert.Equal(300, after.Duplicate - before.Duplicate);
        Assert.Equal(0, after.Created - before.Created);
        Assert.Equal(300, _h.Es.Documents(Logs).Count);
        Assert.Equal(600, _h.Es.TotalItemsReceived);
    }

    [Fact]
    public async Task NothingIsCommittedWhileElasticsearchFailsAndEverythingIsOnceItRecovers()
    {
        await _h.ProduceLogsAsync(200);
        _h.Es.FailNextRequests(int.MaxValue, 503);
        var config = _h.Config(batchSize: 50, inFlight: 2);
        config.Elasticsearch.InstallTemplates = false; // every request fails, setup's too; the built-in logs template makes the data stream
        var sink = await _h.StartSinkAsync(config);

        await Eventually.True(() => _h.Es.BulkRequestCount >= 4, Patience, "the sink retrying");
        Assert.All(_h.Committed("sinks", TopicCatalog.Logs), c => Assert.True(c < 0, $"committed {c} while nothing was written"));
        Assert.Empty(_h.Es.Documents(Logs));
        _h.Es.ClearFaults();

        await WaitForDocuments(200);
        await WaitForCommits("sinks");
        await sink.StopAsync(CancellationToken.None);
        Assert.Equal(200, _h.Es.Documents(Logs).Select(d => d.Id).Distinct().Count());
    }
}
