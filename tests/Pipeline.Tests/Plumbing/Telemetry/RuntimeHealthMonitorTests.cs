using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Kafka;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;
using Pipeline.Schemas.Topics;

namespace Pipeline.Tests.Plumbing.Telemetry;

/// <summary>Floods the test process's own thread pool, so it runs alone: it would starve tests running beside it.</summary>
[CollectionDefinition(nameof(ThreadPoolFlood), DisableParallelization = true)]
public sealed class ThreadPoolFlood;

[Collection(nameof(ThreadPoolFlood))]
public class RuntimeHealthMonitorTests
{
    [Fact]
    public async Task FloodingTheThreadPoolRaisesASelfAlertAndDrainingItResolves()
    {
        using var broker = new EmbeddedBroker();
        broker.CreateTopics();
        var config = new PipelineConfig
        {
            HostName = "health-host",
            RuntimeHealth = new RuntimeHealthConfig { Interval = "200ms", ThreadpoolQueueMax = 200 },
        };
        var kafka = new KafkaSettings(config.Kafka, broker.Bootstrap, embedded: true);
        var monitor = new RuntimeHealthMonitor(config, kafka, "pipeline-test", NullLogger<RuntimeHealthMonitor>.Instance);
        await monitor.StartAsync(CancellationToken.None);

        // Far more blocking work items than threads: the queue backs up.
        using var release = new ManualResetEventSlim();
        for (int i = 0; i < 1500; i++) ThreadPool.UnsafeQueueUserWorkItem(_ => release.Wait(TimeSpan.FromSeconds(20)), null);

        using var consumer = new ConsumerBuilder<string, byte[]>(kafka.Consumer("t", "health-" + Guid.NewGuid())).Build();
        consumer.Assign(Enumerable.Range(0, TopicCatalog.Alerts.Partitions).Select(p => new TopicPartitionOffset(TopicCatalog.Alerts.Name, p, Offset.Beginning)));
        var alerts = new List<AlertEvent>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && !alerts.Exists(a => a.Alert.Status == AlertStatus.Firing))
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r?.Message is not null) alerts.Add(EventSerializer.Deserialize(r.Message.Value, EventJsonContext.Default.AlertEvent));
        }
        double gauge = PipelineMetrics.RuntimeThresholdExceeded.WithLabels("threadpool_queue").Value;
        release.Set();
        var firing = Assert.Single(alerts, a => a.Alert.Status == AlertStatus.Firing);
        Assert.Equal("runtime-threadpool-queue", firing.Alert.Name);
        Assert.Equal("self", firing.Alert.Source);
        Assert.True(firing.Alert.Value > 200);
        Assert.Equal(1, gauge);

        deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && !alerts.Exists(a => a.Alert.Status == AlertStatus.Resolved))
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r?.Message is not null) alerts.Add(EventSerializer.Deserialize(r.Message.Value, EventJsonContext.Default.AlertEvent));
        }
        Assert.Contains(alerts, a => a.Alert.Status == AlertStatus.Resolved && a.Alert.Fingerprint == firing.Alert.Fingerprint);
        await monitor.StopAsync(CancellationToken.None);
    }
}
