using System.Text.Json;
using System.Text.Json.Serialization;
using Pipeline.Schemas.Events;

namespace Pipeline.Producers.Process;

/// <summary>
/// <c>pipeline snapshot export</c>: the whole machine at one moment. Host totals, then every process
/// as the same ECS document the agent publishes to <c>ops.process.v1</c>.
/// </summary>
public sealed record ResourceSnapshot
{
    [JsonPropertyName("@timestamp")] public required DateTimeOffset Timestamp { get; init; }
    [JsonPropertyName("host")] public required SnapshotHost Host { get; init; }
    [JsonPropertyName("processes")] public required IReadOnlyList<ProcessEvent> Processes { get; init; }

    public static ResourceSnapshot From(ProcessSnapshot snapshot, ProcessEventEncoder encoder)
    {
        var h = snapshot.Host;
        var states = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var documents = new List<ProcessEvent>(snapshot.Processes.Count);
        long rss = 0;
        int threads = 0;
        foreach (var p in snapshot.Processes)
        {
            documents.Add(encoder.Sample(p, snapshot.Time));
            var state = ProcessFieldSource.StateText(p.State);
            states[state] = states.GetValueOrDefault(state) + 1;
            rss += p.RssBytes;
            threads += p.Threads;
        }
        return new ResourceSnapshot
        {
            Timestamp = snapshot.Time,
            Host = new SnapshotHost
            {
                Name = encoder.Host,
                Cpu = new SnapshotCpu { Count = h.Cpus, Load1 = h.Load1, Load5 = h.Load5, Load15 = h.Load15 },
                Memory = new SnapshotMemory { Total = h.MemoryTotalBytes, Available = h.MemoryAvailableBytes, ProcessesRss = rss },
                BootTime = h.BootTime,
                UptimeSeconds = Math.Round(h.UptimeSeconds, 2),
                Processes = new SnapshotProcessCounts { Count = snapshot.Processes.Count, Threads = threads, ByState = states, Unreadable = snapshot.Hidden },
            },
            Processes = documents,
        };
    }

    public void WriteTo(Stream stream, bool indented)
    {
        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented });
        JsonSerializer.Serialize(writer, this, SnapshotJsonContext.Default.ResourceSnapshot);
    }

    /// <summary>Writes to <paramref name="path"/> atomically: a temp file next to it, flushed to disk, then renamed over it.</summary>
    public void WriteAtomically(string path)
    {
        var full = Path.GetFullPath(path);
        var tmp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
            {
                WriteTo(stream, indented: true);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            File.Delete(tmp);
            throw;
        }
    }
}

public sealed record SnapshotHost
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("cpu")] public required SnapshotCpu Cpu { get; init; }
    [JsonPropertyName("memory")] public required SnapshotMemory Memory { get; init; }
    [JsonPropertyName("boot_time")] public required DateTimeOffset BootTime { get; init; }
    [JsonPropertyName("uptime_seconds")] public required double UptimeSeconds { get; init; }
    [JsonPropertyName("processes")] public required SnapshotProcessCounts Processes { get; init; }
}

public sealed record SnapshotCpu
{
    [JsonPropertyName("count")] public required int Count { get; init; }
    [JsonPropertyName("load_1m")] public required double Load1 { get; init; }
    [JsonPropertyName("load_5m")] public required double Load5 { get; init; }
    [JsonPropertyName("load_15m")] public required double Load15 { get; init; }
}

public sealed record SnapshotMemory
{
    [JsonPropertyName("total")] public required long Total { get; init; }
    [JsonPropertyName("available")] public required long Available { get; init; }
    /// <summary>Sum of every process's RSS (shared pages count once per process, as in ps).</summary>
    [JsonPropertyName("processes_rss")] public required long ProcessesRss { get; init; }
}

public sealed record SnapshotProcessCounts
{
    [JsonPropertyName("count")] public required int Count { get; init; }
    [JsonPropertyName("threads")] public required int Threads { get; init; }
    [JsonPropertyName("by_state")] public required IReadOnlyDictionary<string, int> ByState { get; init; }
    /// <summary>Processes listed but not readable (hidepid); not in <c>processes</c>.</summary>
    [JsonPropertyName("unreadable")] public required int Unreadable { get; init; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ResourceSnapshot))]
[JsonSerializable(typeof(List<ProcessEvent>))]
public sealed partial class SnapshotJsonContext : JsonSerializerContext;
