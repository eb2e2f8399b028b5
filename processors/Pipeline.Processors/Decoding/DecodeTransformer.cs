using System.Diagnostics;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Schemas.Events;
using Streamiz.Kafka.Net.Processors.Public;

namespace Pipeline.Processors.Decoding;

/// <summary>First step of every source (run by <see cref="DecodeAndFilterTransformer"/>): bytes to <see cref="DecodedEvent"/>, remembering where bad records came from.</summary>
internal sealed class DecodeTransformer
{
    private readonly ProcessorActivity activity;
    private readonly string host;
    private readonly Microsoft.Extensions.Logging.ILogger logger;

    public DecodeTransformer(ProcessorActivity activity, string host, Microsoft.Extensions.Logging.ILogger logger)
    {
        this.activity = activity;
        this.host = host;
        this.logger = logger;
    }

    private Prometheus.Counter.Child? _in;
    // The embedded broker keeps only a few MiB per partition: a processor that falls behind would lose
    // records without a word. A jump in offsets is that loss; count it and say so.
    private readonly Dictionary<int, long> _lastOffset = [];

    public Record<string, DecodedEvent> Process(Record<string, byte[]> record)
    {
        var tpo = record.TopicPartitionOffset;
        _in ??= PipelineMetrics.EventsIn.WithLabels(ProcessorTopology.Stage, tpo.Topic);
        _in.Inc();
        activity.Touch();
        int partition = tpo.Partition.Value;
        long offset = tpo.Offset.Value;
        if (_lastOffset.TryGetValue(partition, out var last) && offset > last + 1)
        {
            PipelineMetrics.LostRecords.WithLabels(ProcessorTopology.Stage, tpo.Topic).Inc(offset - last - 1);
            Microsoft.Extensions.Logging.LoggerExtensions.LogError(logger,
                "{Lost} records of {Topic}[{Partition}] were gone before the processors read them (offsets {From}-{To}); the broker dropped them (embedded broker retention?)",
                offset - last - 1, tpo.Topic, partition, last + 1, offset - 1);
        }
        _lastOffset[partition] = offset;
        var decoded = EventDecoder.Decode(tpo.Topic, record.Value);
        if (EventDecoder.KeyMismatch(tpo.Topic, record.Key, decoded) is { } keyError)
            decoded = DecodedEvent.Invalid(decoded.Raw, "key_mismatch", keyError);
        var headers = record.Headers;
        if (decoded.IsDeadLetter)
        {
            PipelineMetrics.DeadLetters.WithLabels(ProcessorTopology.Stage, decoded.DeadLetterReason!).Inc();
            decoded = decoded.WithDeadLetter(DeadLetters.Serialize(decoded.Raw, tpo.Topic, tpo.Partition.Value, tpo.Offset.Value,
                ProcessorTopology.Stage, decoded.DeadLetterReason!, decoded.Error!, host, DateTimeOffset.UtcNow));
            headers = DeadLetterSpan.Trace(headers, tpo.Topic, decoded.DeadLetterReason!);
        }
        // The record's headers go on with it: the producer's traceparent reaches the filtered and dead-letter topics.
        return Record<string, DecodedEvent>.Create(decoded, headers);
    }

}

/// <summary>
/// The span of a record the processors dead-letter: a child of the record's trace, always kept (a dead letter is an
/// error), and its traceparent replaces the record's so the sink that writes the dead letter continues from it.
/// </summary>
internal static class DeadLetterSpan
{
    public static Confluent.Kafka.Headers? Trace(Confluent.Kafka.Headers? headers, string topic, string reason)
    {
        if (!PipelineTracing.Enabled) return headers;
        PipelineTracing.TryExtract(headers, out var parent);
        using var span = PipelineTracing.StartKept("processors deadletter", ActivityKind.Internal, "deadletter", parent);
        if (span is null) return headers;
        span.SetTag("messaging.source.name", topic);
        span.SetTag("pipeline.deadletter_reason", reason);
        span.SetStatus(ActivityStatusCode.Error, reason);
        headers ??= [];
        PipelineTracing.Replace(headers, span);
        return headers;
    }
}

/// <summary>When the processors last saw a record: used to drain before shutting down.</summary>
public sealed class ProcessorActivity
{
    private long _lastTicks = DateTime.UtcNow.Ticks;

    public void Touch() => Interlocked.Exchange(ref _lastTicks, DateTime.UtcNow.Ticks);

    public TimeSpan IdleFor => DateTime.UtcNow - new DateTime(Interlocked.Read(ref _lastTicks), DateTimeKind.Utc);
}
