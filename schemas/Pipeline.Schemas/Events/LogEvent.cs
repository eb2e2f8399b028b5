using System.Text.Json.Serialization;

namespace Pipeline.Schemas.Events;

/// <summary>One line (or multiline record) read from a file. Topic <c>ops.logs.v1</c>.</summary>
public sealed record LogEvent
{
    [JsonPropertyName("@timestamp")] public required DateTimeOffset Timestamp { get; init; }
    [JsonPropertyName("event")] public required EventInfo Event { get; init; }
    [JsonPropertyName("host")] public required HostInfo Host { get; init; }
    [JsonPropertyName("log")] public required LogInfo Log { get; init; }
    [JsonPropertyName("message")] public required string Message { get; init; }
    [JsonPropertyName("tags")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Tags { get; init; }
    [JsonPropertyName("labels")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, string>? Labels { get; init; }
}

/// <summary>ECS <c>log.*</c>.</summary>
public sealed record LogInfo
{
    [JsonPropertyName("file")] public required LogFileInfo File { get; init; }
    /// <summary>Byte offset of the start of the line in the file.</summary>
    [JsonPropertyName("offset")] public required long Offset { get; init; }
    /// <summary>Lower-case level sniffed from the line (<c>error</c>, <c>warn</c>, ...), absent when none was found.</summary>
    [JsonPropertyName("level")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Level { get; init; }
    /// <summary>How the line was read: <c>truncated</c>, <c>invalid_utf8</c>, <c>multiline</c>, <c>json_error</c>.</summary>
    [JsonPropertyName("flags")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Flags { get; init; }
}

public sealed record LogFileInfo
{
    [JsonPropertyName("path")] public required string Path { get; init; }
}

/// <summary>Values of <c>log.flags</c>.</summary>
public static class LogFlags
{
    public const string Truncated = "truncated";
    public const string InvalidUtf8 = "invalid_utf8";
    /// <summary>Several lines joined into one event (<c>[logs.inputs.multiline]</c>).</summary>
    public const string Multiline = "multiline";
    /// <summary><c>json = true</c>, but the line is not a JSON object; it is shipped as it is.</summary>
    public const string JsonError = "json_error";
}
