using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Kafka;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Schemas.Topics;
using Pipeline.Sinks;
using Pipeline.Sinks.Elasticsearch;
using Pipeline.Testing;
using Pipeline.Testing.Elasticsearch;
using Pipeline.Tests.Plumbing.Telemetry;
using Pipeline.Tests.Sinks.Elasticsearch;

namespace Pipeline.Tests.Producers.Logs;

/// <summary>
/// Traces through the embedded broker: the tailer's read pass is one span whose traceparent rides on its records,
/// kept at ratio 0 only when the pass carries an error line, and the sink's bulk write continues that trace.
/// </summary>
[Collection(TracingCollection.Name)]
public class LogTailerTracingTests
{
    [Fact]
    public async Task RatioZeroDropsOrdinaryBatchesButKeepsTheBatchWithAnErrorLine()
    {
        var exported = new List<Activity>();
        using var tracer = PipelineTracingTests.InMemory(0, exported);
        await using var h = new TailerHarness("trace-ratio0");
        var log = h.LogFile("app.log");
        TailerHarness.Append(log, "INFO all good\nINFO still good\n");
        await h.StartTailerAsync();
        h.WaitForMessages("INFO all good", "INFO still good");
        TailerHarness.Append(log, "ERROR it broke\n");
        h.WaitForMessages("ERROR it broke");
        await h.StopTailerAsync();

        var spans = Spans(exported, "logs publish", s => (string?)s.GetTagItem("host.name") == h.HostName);
        var kept = Assert.Single(spans);
        Assert.Equal("error", kept.GetTagItem(PipelineTracing.KeepReasonTag));

        var records = ReadWithHeaders(h.Broker.Bootstrap, TopicCatalog.Logs);
        foreach (var (message, headers) in records)
        {
            bool traced = PipelineTracing.TryExtract(headers, out var context);
            if (message.Contains("ERROR it broke", StringComparison.Ordinal))
            {
                Assert.True(traced, "the error line's record carries the kept batch's traceparent");
                Assert.Equal(kept.TraceId, context.TraceId);
                Assert.Equal(kept.SpanId, context.SpanId);
                Assert.Equal(ActivityTraceFlags.Recorded, context.TraceFlags);
            }
            else
            {
                Assert.False(traced, $"an unsampled batch adds no header: {message}");
            }
        }
    }

    [Fact]
    public async Task RatioOneKeepsEveryBatchAndTheSinkContinuesTheProducersTrace()
    {
        var exported = new List<Activity>();
        using var tracer = PipelineTracingTests.InMemory(1, exported);
        await using var h = new TailerHarness("trace-ratio1");
        await using var es = await ElasticsearchTestServer.StartAsync();
        TailerHarness.Append(h.LogFile("app.log"), "INFO hello\n");
        await h.StartTailerAsync();
        h.WaitForMessages("INFO hello");
        TailerHarness.Append(h.LogFile("app.log"), "INFO again\n");
        h.WaitForMessages("INFO again");
        await h.StopTailerAsync();
        var produced = Spans(exported, "logs publish", s => (string?)s.GetTagItem("host.name") == h.HostName);
        Assert.Equal(2, produced.Count);
        Assert.All(produced, s => Assert.Null(s.GetTagItem(PipelineTracing.KeepTag)));

        var sink = await StartSinkAsync(h.Broker, es, "trace-sink");
        try
        {
            var traces = produced.Select(s => s.TraceId).ToHashSet();
            await Eventually.True(() => Spans(exported, "sinks write", s => traces.Contains(s.TraceId)).Count > 0,
                TimeSpan.FromSeconds(20), "a sink span in the producer's trace");
            var write = Spans(exported, "sinks write", s => traces.Contains(s.TraceId))[0];
            var parent = produced.Single(p => p.TraceId == write.TraceId);
            Assert.Equal(parent.SpanId, write.ParentSpanId);
            Assert.Equal(ActivityKind.Client, write.Kind);
            Assert.NotEqual(ActivityStatusCode.Error, write.Status);
        }
        finally
        {
            await sink.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task RatioZeroKeepsASinkBatchWithARejectedRecordAsAnError()
    {
        var exported = new List<Activity>();
        using var tracer = PipelineTracingTests.InMemory(0, exported);
        using var broker = new EmbeddedBroker();
        broker.CreateTopics();
        await using var es = await ElasticsearchTestServer.StartAsync();
        es.MapFieldAsInvalid("message");
        var kafka = new KafkaSettings(new KafkaConfig(), broker.Bootstrap, embedded: true);
        using (var producer = new ProducerBuilder<byte[], byte[]>(kafka.Producer("test")).Build())
        {
            var e = SampleEvents.Log(1, "reject-host");
            producer.Produce(TopicCatalog.Logs.Name, new Message<byte[], byte[]> { Key = "k"u8.ToArray(), Value = Pipeline.Schemas.Serialization.EventSerializer.Serialize(e) });
            producer.Flush(TimeSpan.FromSeconds(10));
        }
        var sink = await StartSinkAsync(broker, es, "reject-sink");
        try
        {
            await Eventually.True(() => Spans(exported, "sinks write", s => s.Status == ActivityStatusCode.Error).Count > 0,
                TimeSpan.FromSeconds(20), "an Error sink span");
            var write = Spans(exported, "sinks write", s => s.Status == ActivityStatusCode.Error)[0];
            Assert.True("deadletter".Equals(write.GetTagItem(PipelineTracing.KeepReasonTag)),
                $"keep reason {write.GetTagItem(PipelineTracing.KeepReasonTag)}, status: {write.StatusDescription}");
        }
        finally
        {
            await sink.StopAsync(CancellationToken.None);
        }
    }

    private static async Task<EventSink> StartSinkAsync(EmbeddedBroker broker, ElasticsearchTestServer es, string group)
    {
        var config = new PipelineConfig
        {
            HostName = "sink-test",
            Elasticsearch = new ElasticsearchConfig { Url = es.Url.ToString() },
            Sinks = new SinksConfig { BatchSize = 100, Linger = "100ms", GroupId = group, ConsoleAlerts = false },
        };
        var kafka = new KafkaSettings(new KafkaConfig(), broker.Bootstrap, embedded: true);
        var writer = new SeparatelyCountedWriter(ElasticsearchBulkWriter.Create(config.Elasticsearch, NullLogger.Instance, TimeSpan.FromSeconds(10)));
        var sink = new EventSink(config, kafka, writer, NullLogger<EventSink>.Instance);
        await sink.StartAsync(CancellationToken.None);
        return sink;
    }

    /// <summary>
    /// The sink's item counters are process-wide and labelled by backend name; these tests run beside the Elasticsearch
    /// sink collection, whose tests assert exact "elasticsearch" counts, so this sink counts under its own name.
    /// </summary>
    private sealed class SeparatelyCountedWriter(IBatchWriter inner) : IBatchWriter
    {
        public string Name => "elasticsearch-tracing-test";
        public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);
        public Task<IReadOnlyList<ItemResult>> WriteAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellationToken) =>
            inner.WriteAsync(batch, cancellationToken);
        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    /// <summary>Finished spans so far; the exporter appends from other threads, so copy rather than enumerate.</summary>
    private static List<Activity> Spans(List<Activity> exported, string name, Func<Activity, bool> where)
    {
        return exported.ToArray().Where(a => a is not null && a.DisplayName == name && where(a)).ToList();
    }

    private static List<(string Message, Headers? Headers)> ReadWithHeaders(string bootstrap, TopicSpec topic)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "trace-reader",
            EnableAutoCommit = false,
            EnablePartitionEof = true,
        }).SetLogHandler((_, _) => { }).Build();
        consumer.Assign(Enumerable.Range(0, topic.Partitions).Select(p => new TopicPartitionOffset(topic.Name, p, Offset.Beginning)));
        var records = new List<(string, Headers?)>();
        int eofs = 0;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (eofs < topic.Partitions && DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (r is null) continue;
            if (r.IsPartitionEOF) eofs++;
            else records.Add((System.Text.Encoding.UTF8.GetString(r.Message.Value), r.Message.Headers));
        }
        return records;
    }
}
