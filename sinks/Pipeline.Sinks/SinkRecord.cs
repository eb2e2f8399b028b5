namespace Pipeline.Sinks;

/// <summary>One Kafka record on its way to a backend, with the id and destination the sink derived for it.</summary>
/// <param name="Topic">Source topic.</param>
/// <param name="Partition">Source partition.</param>
/// <param name="Offset">Source offset; committed only once this record is written or dead-lettered.</param>
/// <param name="Value">The event document, UTF-8 JSON, exactly as on the topic.</param>
/// <param name="DocumentId">Stable id (<c>event.id</c>), the Elasticsearch <c>_id</c>.</param>
/// <param name="DataStream">Destination data stream, e.g. <c>logs-ops.logs-default</c>.</param>
public sealed record SinkRecord(string Topic, int Partition, long Offset, byte[] Value, string DocumentId, string DataStream);

/// <summary>What happened to one record in one write attempt.</summary>
public enum ItemOutcome
{
    /// <summary>Written (Elasticsearch 201).</summary>
    Created,
    /// <summary>Already there (409 on create after a replay): counts as written.</summary>
    Duplicate,
    /// <summary>Transient (429, 5xx, connection error): retry this record only.</summary>
    Retry,
    /// <summary>Permanent (mapping or parsing error, other 4xx): dead-letter it.</summary>
    Rejected,
}

/// <summary>The outcome for one record, with the backend's error when there is one.</summary>
public readonly record struct ItemResult(ItemOutcome Outcome, string? ErrorType = null, string? ErrorReason = null)
{
    public static readonly ItemResult Created = new(ItemOutcome.Created);
    public static readonly ItemResult Duplicate = new(ItemOutcome.Duplicate);
}
