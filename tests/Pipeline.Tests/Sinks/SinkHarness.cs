using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Kafka;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;
using Pipeline.Schemas.Topics;
using Pipeline.Sinks;
using Pipeline.Sinks.Elasticsearch;
using Pipeline.Testing.Elasticsearch;
using Pipeline.Tests.Sinks.Elasticsearch;

namespace Pipeline.Tests.Sinks;

/// <summary>The whole sink in this process: an embedded broker, the Elasticsearch test server, and <see cref="EventSink"/> between them.</summary>
internal sealed class SinkHarness : IAsyncDisposable
{
    private readonly IProducer<byte[], byte[]> _producer;

    private SinkHarness(EmbeddedBroker broker, ElasticsearchTestServer es)
    {
        Broker = broker;
        Es = es;
        Kafka = new KafkaSettings(new KafkaConfig(), broker.Bootstrap, embedded: true);
        _producer = new ProducerBuilder<byte[], byte[]>(Kafka.Producer("test")).Build();
    }

    public EmbeddedBroker Broker { get; }
    public ElasticsearchTestServer Es { get; }
    public KafkaSettings Kafka { get; }

    public static async Task<SinkHarness> StartAsync()
    {
        var broker = new EmbeddedBroker();
        broker.CreateTopics();
        return new SinkHarness(broker, await ElasticsearchTestServer.StartAsync());
    }

    public PipelineConfig Config(int batchSize = 200, int inFlight = 2, string linger = "100ms", int maxBytes = 5 * 1024 * 1024, string group = "sinks") => new()
    {
        HostName = "sink-test",
        Elasticsearch = new ElasticsearchConfig { Url = Es.Url.ToString() },
        Sinks = new SinksConfig { BatchSize = batchSize, InFlight = inFlight, Linger = linger, MaxBytes = maxBytes, GroupId = group, ConsoleAlerts = false },
    };

    /// <summary>Log events <paramref name="first"/>.. on four hosts (so on several partitions), each with its own stable id.</summary>
    public async Task<List<LogEvent>> ProduceLogsAsync(int count, int first = 0, Func<LogEvent, LogEvent>? change = null)
    {
        var events = new List<LogEvent>(count);
        for (int n = first; n < first + count; n++)
        {
            var e = SampleEvents.Log(n, $"web-{n % 4}");
            if (change is not null) e = change(e);
            events.Add(e);
            _producer.Produce(TopicCatalog.Logs.Name, new Message<byte[], byte[]> { Key = System.Text.Encoding.UTF8.GetBytes(e.Host.Name), Value = EventSerializer.Serialize(e) });
        }
        _producer.Flush(TimeSpan.FromSeconds(30));
        await Task.CompletedTask;
        return events;
    }

    public async Task<EventSink> StartSinkAsync(PipelineConfig config)
    {
        var writer = ElasticsearchBulkWriter.Create(config.Elasticsearch, NullLogger.Instance, TimeSpan.FromSeconds(10));
        var sink = new EventSink(config, Kafka, writer, NullLogger<EventSink>.Instance);
        await sink.StartAsync(CancellationToken.None);
        return sink;
    }

    /// <summary>The group's committed offset per partition of <paramref name="topic"/> (-1001 when none).</summary>
    public List<long> Committed(string group, TopicSpec topic)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(Kafka.Consumer("probe", group)).Build();
        var partitions = Enumerable.Range(0, topic.Partitions).Select(p => new TopicPartition(topic.Name, p)).ToList();
        return consumer.Committed(partitions, TimeSpan.FromSeconds(10)).Select(o => o.Offset.Value).ToList();
    }

    /// <summary>The end offset per partition of <paramref name="topic"/>.</summary>
    public List<long> Ends(TopicSpec topic)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(Kafka.Consumer("probe", "ends")).Build();
        return Enumerable.Range(0, topic.Partitions)
            .Select(p => consumer.QueryWatermarkOffsets(new TopicPartition(topic.Name, p), TimeSpan.FromSeconds(10)).High.Value).ToList();
    }

    /// <summary>Every dead letter on the topic so far.</summary>
    public List<DeadLetterEvent> DeadLetters()
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(Kafka.Consumer("probe", "dl-" + Guid.NewGuid())).Build();
        consumer.Assign(Enumerable.Range(0, TopicCatalog.DeadLetter.Partitions).Select(p => new TopicPartitionOffset(TopicCatalog.DeadLetter.Name, p, Offset.Beginning)));
        var letters = new List<DeadLetterEvent>();
        var ends = Ends(TopicCatalog.DeadLetter).Sum();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (letters.Count < ends && DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (r?.Message?.Value is { } v) letters.Add(EventSerializer.Deserialize(v, EventJsonContext.Default.DeadLetterEvent));
        }
        return letters;
    }

    public async ValueTask DisposeAsync()
    {
        _producer.Dispose();
        await Es.DisposeAsync();
        Broker.Dispose();
    }
}
