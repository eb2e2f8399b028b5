using System.Text.Json.Serialization;

namespace Pipeline.Schemas.Events;

/// <summary>
/// A rule changing state. Topic <c>ops.alerts.v1</c>, keyed by <see cref="AlertInfo.Fingerprint"/>.
/// This is a public contract: downstream teams consume it directly.
/// </summary>
public sealed record AlertEvent
{
    [JsonPropertyName("@timestamp")] public required DateTimeOffset Timestamp { get; init; }
    [JsonPropertyName("event")] public required EventInfo Event { get; init; }
    [JsonPropertyName("host")] public required HostInfo Host { get; init; }
    [JsonPropertyName("alert")] public required AlertInfo Alert { get; init; }
    /// <summary>One human sentence, e.g. "120 error lines in 1m on web-1 (threshold 100)".</summary>
    [JsonPropertyName("message")] public required string Message { get; init; }
    [JsonPropertyName("labels")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, string>? Labels { get; init; }
}

public sealed record AlertInfo
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    /// <summary><c>firing</c> or <c>resolved</c>.</summary>
    [JsonPropertyName("status")] public required string Status { get; init; }
    [JsonPropertyName("severity")] public required string Severity { get; init; }
    /// <summary>Stable across firing and resolved for the same rule and group.</summary>
    [JsonPropertyName("fingerprint")] public required string Fingerprint { get; init; }
    [JsonPropertyName("value")] public required double Value { get; init; }
    [JsonPropertyName("threshold")] public required double Threshold { get; init; }
    /// <summary>Comparison used, e.g. <c>&gt;=</c>.</summary>
    [JsonPropertyName("op")] public required string Op { get; init; }
    /// <summary>Window length as written in the rule, e.g. <c>1m</c>.</summary>
    [JsonPropertyName("window")] public required string Window { get; init; }
    /// <summary>Which source the rule reads: <c>logs</c>, <c>process</c>, <c>probes</c>, or <c>self</c>.</summary>
    [JsonPropertyName("source")] public required string Source { get; init; }
    /// <summary>The group_by field values this alert is about.</summary>
    [JsonPropertyName("group")] public required IReadOnlyDictionary<string, string> Group { get; init; }
    /// <summary>When the alert started firing (kept on the resolved document too).</summary>
    [JsonPropertyName("started_at")] public required DateTimeOffset StartedAt { get; init; }
}

public static class AlertStatus
{
    public const string Firing = "firing";
    public const string Resolved = "resolved";
}
