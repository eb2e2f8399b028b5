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
    private long _lastPollTicks = long.MinValue;

    /// <summary>How long ago a main consumer of this builder's last reported statistics (it polled), or null if none has yet.</summary>
    public TimeSpan? SinceLastPoll
    {
        get
        {
            long last = Volatile.Read(ref _lastPollTicks);
            return last == long.MinValue ? null : TimeSpan.FromMilliseconds(Environment.TickCount64 - last);
        }
    }
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
            // Statistics arrive only while the stream thread polls: the beat says its loop still turns. Streamiz 1.8.2
            // was seen to stop polling for good, still reporting RUNNING, after a commit refused mid-rebalance
            // ("thread is being fenced ... closing lost active tasks as zombies"): StreamProcessorService then restarts the
            // stream, and systemd's watchdog restarts the service if even that does not bring the beat back.
            StageProgress.Beat(StageProgress.Processors);
            Volatile.Write(ref _lastPollTicks, Environment.TickCount64);
            gauge.ForgetAllBut(consumer.Assignment);
            gauge.Update(consumer, askBroker: false);
        });
        return builder;
    }

    /// <summary>Removes the series of every consumer built, and their last poll; call once the stream is closed (its threads have stopped).</summary>
    public void ForgetAll()
    {
        lock (_lock)
        {
            Volatile.Write(ref _lastPollTicks, long.MinValue);
            foreach (var gauge in _gauges) gauge.ForgetAll();
            _gauges.Clear();
        }
    }
}
