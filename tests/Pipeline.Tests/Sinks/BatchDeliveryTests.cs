using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Kafka;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;
using Pipeline.Schemas.Topics;
using Pipeline.Sinks;

namespace Pipeline.Tests.Sinks;

public class BatchDeliveryTests
{
    /// <summary>A backend whose per-record answers are scripted per attempt.</summary>
    private sealed class ScriptedWriter(params Func<SinkRecord, int, ItemResult>[] attempts) : IBatchWriter
    {
        public List<List<long>> Calls { get; } = [];
        public string Name => "scripted";
        public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<IReadOnlyList<ItemResult>> WriteAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellationToken)
        {
            int attempt = Calls.Count;
            Calls.Add(batch.Select(r => r.Offset).ToList());
            var script = attempts[Math.Min(attempt, attempts.Length - 1)];
            return Task.FromResult<IReadOnlyList<ItemResult>>(batch.Select(r => script(r, attempt)).ToList());
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private static List<SinkRecord> Batch(int n) => Enumerable.Range(0, n)
        .Select(i => new SinkRecord(TopicCatalog.Logs.Name, 0, i, "{\"a\":1}"u8.ToArray(), $"id{i}", "logs-ops.logs-default")).ToList();

    [Fact]
    public async Task OnlyTheRecordsThatFailedTransientlyAreSentAgain()
    {
        using var broker = new EmbeddedBroker();
        broker.CreateTopics();
        using var producer = new ProducerBuilder<byte[], byte[]>(new KafkaSettings(new KafkaConfig(), broker.Bootstrap, true).Producer("t")).Build();
        var writer = new ScriptedWriter(
            (r, _) => r.Offset % 2 == 0 ? new ItemResult(ItemOutcome.Retry, "es_rejected_execution_exception", "queue full") : ItemResult.Created,
            (r, _) => r.Offset == 2 ? new ItemResult(ItemOutcome.Retry, "es_rejected_execution_exception", "queue full") : ItemResult.Duplicate,
            (_, _) => ItemResult.Created);
        var delivery = new BatchDelivery(writer, producer, "h", TimeSpan.Zero, NullLogger.Instance);
        await delivery.DeliverAsync(Batch(6), CancellationToken.None);
        Assert.Equal([[0, 1, 2, 3, 4, 5], [0, 2, 4], [2]], writer.Calls);
    }

    [Fact]
    public async Task PermanentlyRejectedRecordsAreDeadLetteredWithTheBackendsError()
    {
        using var broker = new EmbeddedBroker();
        broker.CreateTopics();
        var settings = new KafkaSettings(new KafkaConfig(), broker.Bootstrap, true);
        using var producer = new ProducerBuilder<byte[], byte[]>(settings.Producer("t")).Build();
        var writer = new ScriptedWriter((r, _) => r.Offset == 1
            ? new ItemResult(ItemOutcome.Rejected, "mapping_exception", "failed to parse field [process.pid] of type [long]")
            : ItemResult.Created);
        var delivery = new BatchDelivery(writer, producer, "sink-host", TimeSpan.Zero, NullLogger.Instance);
        await delivery.DeliverAsync(Batch(3), CancellationToken.None);

        using var consumer = new ConsumerBuilder<byte[], byte[]>(settings.Consumer("t", "g-" + Guid.NewGuid())).Build();
        consumer.Assign(Enumerable.Range(0, TopicCatalog.DeadLetter.Partitions).Select(p => new TopicPartitionOffset(TopicCatalog.DeadLetter.Name, p, Offset.Beginning)));
        ConsumeResult<byte[], byte[]>? result = null;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (result is null && DateTime.UtcNow < deadline) result = consumer.Consume(TimeSpan.FromMilliseconds(200));
        Assert.NotNull(result);
        var letter = EventSerializer.Deserialize(result.Message.Value, EventJsonContext.Default.DeadLetterEvent);
        Assert.Equal("mapping_exception", letter.DeadLetter.Reason);
        Assert.Contains("process.pid", letter.Error.Message);
        Assert.Equal(1, letter.DeadLetter.Source.Offset);
        Assert.Equal("sinks.scripted", letter.DeadLetter.Stage);
        Assert.Equal("{\"a\":1}"u8.ToArray(), Convert.FromBase64String(letter.DeadLetter.Original));
        Assert.Single(writer.Calls);
    }

    [Fact]
    public async Task ABackendThatStaysDownIsGivenUpOnWithoutClaimingSuccess()
    {
        using var broker = new EmbeddedBroker();
        using var producer = new ProducerBuilder<byte[], byte[]>(new KafkaSettings(new KafkaConfig(), broker.Bootstrap, true).Producer("t")).Build();
        var writer = new ScriptedWriter((_, _) => new ItemResult(ItemOutcome.Retry, "connection_error", "connection refused"));
        var delivery = new BatchDelivery(writer, producer, "h", TimeSpan.FromMilliseconds(500), NullLogger.Instance);
        var e = await Assert.ThrowsAsync<SinkUnavailableException>(() => delivery.DeliverAsync(Batch(2), CancellationToken.None));
        Assert.Contains("connection refused", e.Message);
        Assert.True(writer.Calls.Count >= 2);
    }

    [Fact]
    public void BackoffGrowsExponentiallyWithJitterAndIsCapped()
    {
        for (int attempt = 1; attempt < 30; attempt++)
        {
            var d = BatchDelivery.Backoff(attempt);
            double cap = Math.Min(30_000, 200 * Math.Pow(2, Math.Min(attempt - 1, 16)));
            Assert.InRange(d.TotalMilliseconds, cap / 2, cap);
        }
    }

    [Fact]
    public void DocumentIdsComeFromTheEventOrFromItsContent()
    {
        Assert.Equal("abc", DocumentIds.For("""{"@timestamp":"x","event":{"kind":"event","id":"abc"},"m":[1,{"id":"no"}]}"""u8.ToArray()));
        var noId = "{\"message\":\"x\"}"u8.ToArray();
        Assert.Equal(EventIds.FromContent(noId), DocumentIds.For(noId));
        Assert.Equal(32, DocumentIds.For("not json"u8.ToArray()).Length);
    }
}
