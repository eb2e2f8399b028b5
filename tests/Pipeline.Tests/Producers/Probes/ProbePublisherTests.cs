using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Json.Schema;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Kafka;
using Pipeline.Producers.Probes;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;
using Pipeline.Schemas.Topics;
using Pipeline.Testing;
using Pipeline.Tests.Schemas;

namespace Pipeline.Tests.Producers.Probes;

/// <summary>The scheduler and publisher together on an embedded broker: what lands on ops.probes.v1 is what the schema promises.</summary>
[Collection(ProbeTimingCollection.Name)]
public sealed class ProbePublisherTests
{
    [Fact]
    public async Task EveryPublishedResultIsASchemaValidStateEventKeyedByHost()
    {
        using var dir = new TempDirectory("pipeline-probe-publish");
        using var broker = new EmbeddedBroker();
        broker.CreateTopics();
        File.WriteAllText(dir.File("heartbeat"), "x");
        var config = new PipelineConfig
        {
            HostName = "node-7",
            Probes =
            [
                new ProbeConfig { Name = "heartbeat", Type = "file", Target = dir.File("heartbeat"), Interval = "200ms" },
                new ProbeConfig { Name = "db-port", Type = "tcp", Target = $"127.0.0.1:{FreePort.Next()}", Interval = "200ms",
                    Condition = "DatabaseUnreachable", FailureThreshold = 2, Severity = "critical" },
                new ProbeConfig { Name = "kernel", Type = "kmsg", Target = "/no/such/kmsg", Interval = "200ms" },
            ],
        };
        var kafka = new KafkaSettings(config.Kafka, broker.Bootstrap, embedded: true);
        var publisher = new ProbePublisher(config, kafka, NullLogger<ProbePublisher>.Instance);
        using (var scheduler = new ProbeScheduler(config, [publisher], NullLogger<ProbeScheduler>.Instance))
        {
            await scheduler.StartAsync(TestContext.Current.CancellationToken);
            await Eventually.True(() => publisher.Delivered >= 9, TimeSpan.FromSeconds(15), "nine results delivered");
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await scheduler.StopAsync(timeout.Token);
        }
        publisher.Dispose();

        var records = Consume(broker, (int)publisher.Delivered);
        var schema = SchemaConformanceTests.Schema(TopicCatalog.Probes.SchemaFile);
        foreach (var (key, json) in records)
        {
            Assert.Equal("node-7", key);
            using var doc = JsonDocument.Parse(json);
            var result = schema.Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
            Assert.True(result.IsValid, Encoding.UTF8.GetString(json));
        }
        var events = records.Select(r => EventSerializer.Deserialize(r.Json, EventJsonContext.Default.ProbeEvent)).ToList();
        Assert.All(events, e => Assert.Equal(EventKinds.State, e.Event.Kind));
        Assert.Equal(events.Count, events.Select(e => e.Event.Id).Distinct().Count());
        Assert.All(events, e => Assert.Equal(EventIds.FromParts("node-7", e.Probe.Name, e.Timestamp.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture)), e.Event.Id));

        var heartbeat = events.First(e => e.Probe.Name == "heartbeat");
        Assert.Equal(("ok", "file", null), (heartbeat.Probe.Status, heartbeat.Probe.Type, heartbeat.Probe.ConditionStatus));

        var db = events.Where(e => e.Probe.Name == "db-port").OrderBy(e => e.Timestamp).ToList();
        Assert.All(db, e => Assert.Equal(("problem", "connection_refused", 3), (e.Probe.Status, e.Probe.Reason, e.Event.Severity)));
        Assert.Equal(["Unknown", "True"], db.Take(2).Select(e => e.Probe.ConditionStatus));
        Assert.Equal("condition_changed", db[1].Event.Action);
        Assert.Equal("DatabaseUnreachable", db[0].Probe.Condition);

        var kernel = events.First(e => e.Probe.Name == "kernel");
        Assert.Equal(("unknown", "unreadable"), (kernel.Probe.Status, kernel.Probe.Reason));
    }

    private static List<(string Key, byte[] Json)> Consume(EmbeddedBroker broker, int expected)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = broker.Bootstrap,
            GroupId = "probe-test-reader",
            EnableAutoCommit = false,
            FetchWaitMaxMs = 10,
        }).SetLogHandler((_, _) => { }).Build();
        consumer.Assign(Enumerable.Range(0, TopicCatalog.Probes.Partitions)
            .Select(p => new TopicPartitionOffset(TopicCatalog.Probes.Name, new Partition(p), Offset.Beginning)));
        var records = new List<(string, byte[])>();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (records.Count < expected && DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (r is { IsPartitionEOF: false }) records.Add((Encoding.UTF8.GetString(r.Message.Key), r.Message.Value));
        }
        Assert.Equal(expected, records.Count);
        return records;
    }
}
