using Confluent.Kafka;

namespace Pipeline.Sinks;

/// <summary>
/// The batch the sink is filling: its records, their bytes, and per partition the offset to commit once every record
/// is written or dead-lettered. It is ready by count, by bytes or by age (linger, counted from its first record).
/// </summary>
public sealed class PendingBatch(int capacity)
{
    private readonly List<SinkRecord> _records = new(capacity);
    private readonly Dictionary<TopicPartition, long> _nextOffsets = [];

    public IReadOnlyList<SinkRecord> Records => _records;

    /// <summary>Next offset to read per partition: the last record's offset + 1, what Kafka's commit wants.</summary>
    public IReadOnlyDictionary<TopicPartition, long> NextOffsets => _nextOffsets;

    public int Count => _records.Count;

    /// <summary>Bytes of record values (what goes into the request body, before the action lines and gzip).</summary>
    public long Bytes { get; private set; }

    /// <summary>When the first record arrived; linger counts from here.</summary>
    public DateTime FirstAt { get; private set; }

    /// <summary>The traces the batch continues; null while tracing is off or no record carried one.</summary>
    public BatchTrace? Trace { get; private set; }

    /// <summary>Notes a record's trace context (only called while tracing is on).</summary>
    public void Observe(Headers? headers, string topic)
    {
        if (Trace is null && (headers is null || headers.Count == 0) && topic != Schemas.Topics.TopicCatalog.Alerts.Name && topic != Schemas.Topics.TopicCatalog.DeadLetter.Name) return;
        (Trace ??= new BatchTrace()).Observe(headers, topic);
    }

    public void Add(TopicPartition partition, SinkRecord record, DateTime now)
    {
        if (_records.Count == 0) FirstAt = now;
        _records.Add(record);
        Bytes += record.Value.Length;
        _nextOffsets[partition] = record.Offset + 1;
    }

    /// <summary>Full by count or bytes: send it now.</summary>
    public bool IsFull(int maxCount, long maxBytes) => _records.Count >= maxCount || Bytes >= maxBytes;

    /// <summary>Has records and its first one has waited <paramref name="linger"/>.</summary>
    public bool HasLingered(TimeSpan linger, DateTime now) => _records.Count > 0 && now - FirstAt >= linger;
}
