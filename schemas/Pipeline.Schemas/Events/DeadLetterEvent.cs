using System.Text.Json.Serialization;

namespace Pipeline.Schemas.Events;

/// <summary>
/// A record a stage could not handle, kept whole so it can be inspected and replayed. Topic <c>ops.deadletter.v1</c>.
/// </summary>
public sealed record DeadLetterEvent
{
    [JsonPropertyName("@timestamp")] public required DateTimeOffset Timestamp { get; init; }
    [JsonPropertyName("event")] public required EventInfo Event { get; init; }
    [JsonPropertyName("host")] public required HostInfo Host { get; init; }
    [JsonPropertyName("error")] public required ErrorInfo Error { get; init; }
    [JsonPropertyName("deadletter")] public required DeadLetterInfo DeadLetter { get; init; }
}

public sealed record DeadLetterInfo
{
    /// <summary>Which stage gave up: <c>processors</c>, <c>sinks.elasticsearch</c>, ...</summary>
    [JsonPropertyName("stage")] public required string Stage { get; init; }
    /// <summary>Short machine-readable reason, e.g. <c>invalid_json</c>, <c>mapping_exception</c>.</summary>
    [JsonPropertyName("reason")] public required string Reason { get; init; }
    [JsonPropertyName("source")] public required DeadLetterSource Source { get; init; }
    /// <summary>The original record value, base64.</summary>
    [JsonPropertyName("original")] public required string Original { get; init; }
}

public sealed record DeadLetterSource
{
    [JsonPropertyName("topic")] public required string Topic { get; init; }
    [JsonPropertyName("partition")] public required int Partition { get; init; }
    [JsonPropertyName("offset")] public required long Offset { get; init; }
}
