using System.Text.Json.Serialization;

namespace Pipeline.Schemas.Events;

/// <summary>
/// A process sample (<c>event.kind=metric</c>) or a process event such as an OOM kill
/// (<c>event.kind=event</c>, <c>event.action=oom_kill</c>). Topic <c>ops.process.v1</c>.
/// </summary>
public sealed record ProcessEvent
{
    [JsonPropertyName("@timestamp")] public required DateTimeOffset Timestamp { get; init; }
    [JsonPropertyName("event")] public required EventInfo Event { get; init; }
    [JsonPropertyName("host")] public required HostInfo Host { get; init; }
    [JsonPropertyName("process")] public required ProcessInfo Process { get; init; }
    [JsonPropertyName("user")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public UserInfo? User { get; init; }
    [JsonPropertyName("message")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Message { get; init; }
    [JsonPropertyName("labels")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, string>? Labels { get; init; }
}

public sealed record ProcessInfo
{
    [JsonPropertyName("pid")] public required int Pid { get; init; }
    [JsonPropertyName("parent")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public ProcessParent? Parent { get; init; }
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("executable")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Executable { get; init; }
    [JsonPropertyName("command_line")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? CommandLine { get; init; }
    [JsonPropertyName("state")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? State { get; init; }
    [JsonPropertyName("start")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public DateTimeOffset? Start { get; init; }
    [JsonPropertyName("thread")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public ProcessThreads? Thread { get; init; }
    [JsonPropertyName("cpu")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public ProcessCpu? Cpu { get; init; }
    [JsonPropertyName("memory")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public ProcessMemory? Memory { get; init; }
}

public sealed record ProcessParent
{
    [JsonPropertyName("pid")] public required int Pid { get; init; }
}

public sealed record ProcessThreads
{
    [JsonPropertyName("count")] public required int Count { get; init; }
}

public sealed record ProcessCpu
{
    /// <summary>Percent of one core, like <c>top</c> (can exceed 100).</summary>
    [JsonPropertyName("pct")] public required double Pct { get; init; }
    /// <summary>Percent of all cores (0-100).</summary>
    [JsonPropertyName("total_pct")] public required double TotalPct { get; init; }
}

public sealed record ProcessMemory
{
    [JsonPropertyName("rss")] public required long Rss { get; init; }
    [JsonPropertyName("vsz")] public required long Vsz { get; init; }
    [JsonPropertyName("pct")] public required double Pct { get; init; }
}

/// <summary>ECS <c>user.*</c>.</summary>
public sealed record UserInfo
{
    [JsonPropertyName("name")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Name { get; init; }
    [JsonPropertyName("id")] public required string Id { get; init; }
}
