using System.Text.Json.Serialization;

namespace Pipeline.Schemas.Events;

/// <summary>
/// A process sample (<c>event.kind=metric</c>) or a process event (<c>event.kind=event</c>) whose
/// <c>event.action</c> is <c>start</c>, <c>exit</c> or <c>oom_kill</c>. Topic <c>ops.process.v1</c>.
/// </summary>
public sealed record ProcessEvent
{
    [JsonPropertyName("@timestamp")] public required DateTimeOffset Timestamp { get; init; }
    [JsonPropertyName("event")] public required EventInfo Event { get; init; }
    [JsonPropertyName("host")] public required HostInfo Host { get; init; }
    [JsonPropertyName("process")] public required ProcessInfo Process { get; init; }
    [JsonPropertyName("user")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public UserInfo? User { get; init; }
    [JsonPropertyName("message")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Message { get; init; }
    [JsonPropertyName("container")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public ContainerInfo? Container { get; init; }
    [JsonPropertyName("orchestrator")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public OrchestratorInfo? Orchestrator { get; init; }
    /// <summary>
    /// <c>cgroup_path</c> and <c>systemd_unit</c> where known, <c>oom_source</c> on OOM events, plus the
    /// labels set by <c>[[process.labels]]</c> rules.
    /// </summary>
    [JsonPropertyName("labels")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, string>? Labels { get; init; }
}

/// <summary>Values of <c>event.action</c> on <c>ops.process.v1</c> events.</summary>
public static class ProcessActions
{
    public const string Start = "start";
    public const string Exit = "exit";
    public const string OomKill = "oom_kill";
}

/// <summary>ECS <c>container.*</c>: the container a process runs in, taken from its cgroup.</summary>
public sealed record ContainerInfo
{
    [JsonPropertyName("id")] public required string Id { get; init; }
    /// <summary><c>docker</c>, <c>containerd</c>, <c>cri-o</c> or <c>podman</c>.</summary>
    [JsonPropertyName("runtime")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Runtime { get; init; }
}

/// <summary>ECS <c>orchestrator.*</c>: for Kubernetes, <c>type=kubernetes</c> and the pod as the resource.</summary>
public sealed record OrchestratorInfo
{
    [JsonPropertyName("type")] public required string Type { get; init; }
    [JsonPropertyName("resource")] public required OrchestratorResource Resource { get; init; }
}

public sealed record OrchestratorResource
{
    /// <summary><c>pod</c>.</summary>
    [JsonPropertyName("type")] public required string Type { get; init; }
    /// <summary>The pod UID.</summary>
    [JsonPropertyName("id")] public required string Id { get; init; }
}

public sealed record ProcessInfo
{
    [JsonPropertyName("pid")] public required int Pid { get; init; }
    [JsonPropertyName("parent")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public ProcessParent? Parent { get; init; }
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("executable")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Executable { get; init; }
    [JsonPropertyName("command_line")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? CommandLine { get; init; }
    /// <summary>The command line as the kernel holds it, one entry per argument. Absent for kernel threads and zombies.</summary>
    [JsonPropertyName("args")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Args { get; init; }
    /// <summary>Single-letter state as in <c>/proc/PID/stat</c>: R, S, D, Z, T, t, X, I, ...</summary>
    [JsonPropertyName("state")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? State { get; init; }
    [JsonPropertyName("start")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public DateTimeOffset? Start { get; init; }
    /// <summary>When the process was seen gone (exit events).</summary>
    [JsonPropertyName("end")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public DateTimeOffset? End { get; init; }
    [JsonPropertyName("nice")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? Nice { get; init; }
    [JsonPropertyName("thread")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public ProcessThreads? Thread { get; init; }
    [JsonPropertyName("cpu")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public ProcessCpu? Cpu { get; init; }
    [JsonPropertyName("memory")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public ProcessMemory? Memory { get; init; }
    /// <summary>Bytes read and written (<c>/proc/PID/io</c>); absent when not permitted.</summary>
    [JsonPropertyName("io")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public ProcessIo? Io { get; init; }
    /// <summary>Open file descriptors; absent when not permitted.</summary>
    [JsonPropertyName("fd_count")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? FdCount { get; init; }
}

public sealed record ProcessIo
{
    /// <summary>Bytes this process caused to be fetched from storage.</summary>
    [JsonPropertyName("read_bytes")] public required long ReadBytes { get; init; }
    /// <summary>Bytes this process caused to be sent to storage.</summary>
    [JsonPropertyName("write_bytes")] public required long WriteBytes { get; init; }
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
