using Confluent.Kafka;
using Prometheus;

namespace Pipeline.Plumbing.Telemetry;

/// <summary>
/// Keeps <c>pipeline_consumer_lag{stage,topic,partition}</c> for one consumer: the partition's high watermark minus the
/// consumer's position. Call <see cref="Update"/> from the consuming thread now and then, and <see cref="Forget"/> for
/// revoked partitions so a partition another instance took over does not keep a frozen value here.
/// </summary>
public sealed class ConsumerLagGauge(string stage)
{
    private static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(1);

    private readonly Dictionary<TopicPartition, Gauge.Child> _children = [];

    /// <param name="consumer">The consumer whose assignment to report.</param>
    /// <param name="askBroker">
    /// Ask the broker for the high watermark. Needed while partitions are paused: the client's cached watermark only moves
    /// with fetches, so it would hide a backlog that keeps growing. Otherwise the cached value is fresh and costs nothing.
    /// </param>
    public void Update(IConsumer<byte[], byte[]> consumer, bool askBroker)
    {
        foreach (var tp in consumer.Assignment)
        {
            long high;
            try
            {
                high = askBroker ? consumer.QueryWatermarkOffsets(tp, QueryTimeout).High.Value : consumer.GetWatermarkOffsets(tp).High.Value;
            }
            catch (KafkaException)
            {
                continue; // broker unreachable for now: keep the last value rather than report a wrong one
            }
            var position = consumer.Position(tp);
            if (high < 0 || position.Value < 0) continue; // nothing fetched or consumed yet: unknown, not zero
            Child(tp).Set(Math.Max(0, high - position.Value));
        }
    }

    /// <summary>Removes the series of partitions this consumer no longer owns.</summary>
    public void Forget(IEnumerable<TopicPartition> partitions)
    {
        foreach (var tp in partitions)
        {
            if (_children.Remove(tp, out var child)) child.Remove();
        }
    }

    /// <summary>
    /// Removes the series of partitions not in <paramref name="assignment"/>: for a consumer whose rebalance handlers
    /// belong to someone else (Streamiz), so revoked partitions are noticed at the next update instead.
    /// </summary>
    public void ForgetAllBut(List<TopicPartition> assignment)
    {
        List<TopicPartition>? gone = null;
        foreach (var tp in _children.Keys)
        {
            if (!assignment.Contains(tp)) (gone ??= []).Add(tp);
        }
        if (gone is not null) Forget(gone);
    }

    /// <summary>Removes every series of this consumer (it is closing).</summary>
    public void ForgetAll() => Forget([.. _children.Keys]);

    private Gauge.Child Child(TopicPartition tp)
    {
        if (!_children.TryGetValue(tp, out var child))
        {
            child = PipelineMetrics.ConsumerLag.WithLabels(stage, tp.Topic, tp.Partition.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
            _children[tp] = child;
        }
        return child;
    }
}
