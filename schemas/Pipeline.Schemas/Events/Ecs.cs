using System.Text.Json.Serialization;

namespace Pipeline.Schemas.Events;

// ECS field groups shared by every event. Nested objects (not dotted keys) because that is the
// canonical ECS shape: Elasticsearch maps both the same, and field paths like "host.name" resolve naturally.

/// <summary>ECS <c>event.*</c>: what kind of document this is and its stable id.</summary>
public sealed record EventInfo
{
    /// <summary><c>event</c>, <c>metric</c>, <c>state</c> or <c>alert</c>.</summary>
    [JsonPropertyName("kind")] public required string Kind { get; init; }
    /// <summary>The dataset, e.g. <c>ops.logs</c>; also selects the Elasticsearch data stream.</summary>
    [JsonPropertyName("dataset")] public required string Dataset { get; init; }
    /// <summary>Deterministic id, used as the Elasticsearch <c>_id</c> so a replay cannot duplicate.</summary>
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("action")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Action { get; init; }
    [JsonPropertyName("severity")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? Severity { get; init; }
}

/// <summary>ECS <c>host.*</c>.</summary>
public sealed record HostInfo
{
    [JsonPropertyName("name")] public required string Name { get; init; }
}

/// <summary>ECS <c>error.*</c>.</summary>
public sealed record ErrorInfo
{
    [JsonPropertyName("type")] public required string Type { get; init; }
    [JsonPropertyName("message")] public required string Message { get; init; }
}

/// <summary>The values every event kind uses for <c>event.kind</c>.</summary>
public static class EventKinds
{
    public const string Event = "event";
    public const string Metric = "metric";
    public const string Alert = "alert";
    /// <summary>A periodic report of something's current state (probe results).</summary>
    public const string State = "state";
}
