using Confluent.Kafka;
using Pipeline.Plumbing.Telemetry;
using Streamiz.Kafka.Net.Kafka;

namespace Pipeline.Processors;

/// <summary>
/// Builds Streamiz's Kafka clients as its default builder does, and gives each main consumer a
/// <c>pipeline_consumer_lag{stage="processors"}</c> gauge (source and repartition topics). Streamiz owns the consume
/// loop and the rebalance handlers, so the gauge is updated from librdkafka's statistics callback: it runs on the
/// stream thread inside Consume, as <see cref="ConsumerLagGauge"/> requires, and the statistics JSON is not parsed.
/// </summary>
public sealed class LagReportingClientBuilder : DefaultKafkaClientBuilder
{
    /// <summary>Often enough to see a backlog build, rarely enough that the statistics cost nothing measurable.</summary>
    public const int UpdateIntervalMs = 5000;

    private readonly Lock _lock = new();
    private readonly List<ConsumerLagGauge> _gauges = [];

    public override ConsumerBuilder<byte[], byte[]> GetConsumerBuilder(ConsumerConfig config)
    {
        // Client ids follow '<client.id>-StreamThread-<n>-<consumer|restore-consumer>': only the main consumer
        // reads the topology's input; the restore consumer reads changelogs briefly and then goes quiet.
        var id = config.ClientId ?? "";
        if (!id.EndsWith("-consumer", StringComparison.Ordinal) || id.EndsWith("-restore-consumer", StringComparison.Ordinal))
            return base.GetConsumerBuilder(config);
        config.StatisticsIntervalMs = UpdateIntervalMs;
        var builder = base.GetConsumerBuilder(config);
        var gauge = new ConsumerLagGauge(ProcessorTopology.Stage);
        lock (_lock) _gauges.Add(gauge);
        builder.SetStatisticsHandler((consumer, _) =>
        {
            gauge.ForgetAllBut(consumer.Assignment);
            gauge.Update(consumer, askBroker: false);
        });
        return builder;
    }

    /// <summary>Removes the series of every consumer built; call once the stream is closed (its threads have stopped).</summary>
    public void ForgetAll()
    {
        lock (_lock)
        {
            foreach (var gauge in _gauges) gauge.ForgetAll();
            _gauges.Clear();
        }
    }
}
