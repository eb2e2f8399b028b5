using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Kafka;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Schemas.Topics;
using Prometheus;

namespace Pipeline.Sinks.Metrics;

/// <summary>
/// The Prometheus exporter: reads process, probe, log and alert events in its own consumer group and keeps
/// <see cref="EventMetrics"/> up to date on this process's <c>/metrics</c>. A new group starts at the newest events;
/// after a restart it continues from its committed position, so a counter's first value after the reset still holds
/// what happened while it was down. Alert partitions are always read from the beginning, to rebuild which alerts are firing.
/// </summary>
public sealed class EventMetricsExporter(PipelineConfig config, KafkaSettings kafka, ILogger<EventMetricsExporter> logger) : BackgroundService
{
    public const string Stage = "exporter";

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly string[] Topics = [TopicCatalog.Logs.Name, TopicCatalog.Process.Name, TopicCatalog.Probes.Name, TopicCatalog.Alerts.Name];

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
        => Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stop)
    {
        var metrics = new EventMetrics(config.Exporter, Prometheus.Metrics.DefaultFactory);
        var consumerConfig = kafka.Consumer(Stage, config.Exporter.GroupId);
        consumerConfig.AutoOffsetReset = AutoOffsetReset.Latest;
        consumerConfig.EnableAutoCommit = true;
        consumerConfig.EnableAutoOffsetStore = true;
        consumerConfig.QueuedMaxMessagesKbytes = 16 * 1024;
        var lag = new ConsumerLagGauge(Stage);
        var eventsIn = new Dictionary<string, Counter.Child>(StringComparer.Ordinal);
        foreach (var topic in Topics) eventsIn[topic] = PipelineMetrics.EventsIn.WithLabels(Stage, topic);
        bool announced = false;
        using var consumer = new ConsumerBuilder<byte[], byte[]>(consumerConfig)
            .SetErrorHandler((_, e) => logger.LogWarning("exporter consumer: {Reason} ({Code})", e.Reason, e.Code))
            .SetLogHandler(KafkaLog.To(logger))
            .SetPartitionsAssignedHandler((_, partitions) =>
            {
                if (!announced)
                {
                    announced = true;
                    logger.LogInformation("exporter started: turning events of {Count} partitions into ops_* series", partitions.Count);
                }
                return partitions.Select(p => new TopicPartitionOffset(p, p.Topic == TopicCatalog.Alerts.Name ? Offset.Beginning : Offset.Unset));
            })
            .SetPartitionsRevokedHandler((_, partitions) => lag.Forget(partitions.Select(p => p.TopicPartition)))
            .Build();
        consumer.Subscribe(Topics);
        var nextTick = Environment.TickCount64;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var now = Environment.TickCount64;
                if (now >= nextTick)
                {
                    metrics.Tick(now);
                    lag.Update(consumer, askBroker: false);
                    nextTick = now + 1000;
                }
                ConsumeResult<byte[], byte[]>? result;
                try
                {
                    result = consumer.Consume(PollInterval);
                }
                catch (ConsumeException e)
                {
                    logger.LogWarning("exporter: {Error}", e.Error.Reason);
                    continue;
                }
                if (result is null || result.IsPartitionEOF || result.Message?.Value is not { } value) continue;
                eventsIn.GetValueOrDefault(result.Topic)?.Inc();
                metrics.Observe(result.Topic, value, now);
            }
        }
        finally
        {
            lag.ForgetAll();
            consumer.Close();
        }
    }
}
