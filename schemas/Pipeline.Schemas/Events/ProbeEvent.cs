using System.Text.Json.Serialization;

namespace Pipeline.Schemas.Events;

/// <summary>The result of one health probe run. Topic <c>ops.probes.v1</c>.</summary>
public sealed record ProbeEvent
{
    [JsonPropertyName("@timestamp")] public required DateTimeOffset Timestamp { get; init; }
    [JsonPropertyName("event")] public required EventInfo Event { get; init; }
    [JsonPropertyName("host")] public required HostInfo Host { get; init; }
    [JsonPropertyName("probe")] public required ProbeInfo Probe { get; init; }
    [JsonPropertyName("message")] public required string Message { get; init; }
    [JsonPropertyName("labels")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, string>? Labels { get; init; }
}

public sealed record ProbeInfo
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    /// <summary><c>disk</c>, <c>memory</c>, <c>dns</c>, <c>http</c>, <c>tcp</c>, <c>exec</c>, ...</summary>
    [JsonPropertyName("type")] public required string Type { get; init; }
    [JsonPropertyName("target")] public required string Target { get; init; }
    /// <summary><c>ok</c>, <c>problem</c> or <c>unknown</c>, as node-problem-detector maps exit codes.</summary>
    [JsonPropertyName("status")] public required string Status { get; init; }
    /// <summary>The NodeCondition type this probe drives, e.g. <c>DiskPressure</c>.</summary>
    [JsonPropertyName("condition")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Condition { get; init; }
    /// <summary>Why the status is what it is, one word: <c>timeout</c>, <c>dns_failure</c>, <c>connection_refused</c>, <c>tls_error</c>, <c>threshold</c>, ...</summary>
    [JsonPropertyName("reason")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Reason { get; init; }
    /// <summary>The condition's state after this result, with flap suppression applied: <c>True</c> (problem), <c>False</c> or <c>Unknown</c>.</summary>
    [JsonPropertyName("condition_status")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? ConditionStatus { get; init; }
    [JsonPropertyName("duration_ms")] public required double DurationMs { get; init; }
    /// <summary>The measured value where the type has one (used %, latency ms, ...).</summary>
    [JsonPropertyName("value")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? Value { get; init; }
}
