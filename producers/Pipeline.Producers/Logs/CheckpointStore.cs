using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Producers.Logs;

/// <summary>Where reading of one file stands: the offset up to which Kafka has acknowledged every line.</summary>
public sealed record Checkpoint
{
    [JsonPropertyName("identity")] public required string Identity { get; init; }
    [JsonPropertyName("path")] public required string Path { get; init; }
    /// <summary>Byte offset of the first line not yet acknowledged.</summary>
    [JsonPropertyName("offset")] public required long Offset { get; init; }
    /// <summary>Hash of the file's first <see cref="FingerprintLength"/> bytes: tells a reused inode from the same file.</summary>
    [JsonPropertyName("fingerprint")] public string? Fingerprint { get; init; }
    [JsonPropertyName("fingerprint_length")] public int FingerprintLength { get; init; }
    [JsonPropertyName("seen")] public required DateTimeOffset Seen { get; init; }
}

[JsonSerializable(typeof(List<Checkpoint>))]
[JsonSourceGenerationOptions(WriteIndented = true)]
internal sealed partial class CheckpointJsonContext : JsonSerializerContext;

/// <summary>
/// The log tailer's registry, one JSON file under <c>data_dir</c>. Written atomically (temp file,
/// fsync, rename) so a crash leaves either the old or the new state, never half of one. Only
/// acknowledged offsets are ever written: after a crash lines are re-sent, never skipped.
/// </summary>
public sealed class CheckpointStore
{
    private readonly string _path;
    private readonly Dictionary<string, Checkpoint> _entries = new(StringComparer.Ordinal);

    public CheckpointStore(string path)
    {
        _path = path;
        Load();
    }

    public string Path => _path;

    public IReadOnlyCollection<Checkpoint> Entries => _entries.Values;

    public Checkpoint? Get(string identity) => _entries.GetValueOrDefault(identity);

    public void Set(Checkpoint checkpoint) => _entries[checkpoint.Identity] = checkpoint;

    /// <summary>Forgets files not seen for <paramref name="age"/>, so the registry does not grow forever.</summary>
    public void Prune(DateTimeOffset now, TimeSpan age)
    {
        foreach (var key in _entries.Keys.ToList())
        {
            if (now - _entries[key].Seen > age) _entries.Remove(key);
        }
    }

    public void Save()
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(_path))!);
        var tmp = _path + ".tmp";
        using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, _entries.Values.ToList(), CheckpointJsonContext.Default.ListCheckpoint);
            stream.Flush(flushToDisk: true);
        }
        File.Move(tmp, _path, overwrite: true);
    }

    private void Load()
    {
        if (!File.Exists(_path)) return;
        List<Checkpoint>? list;
        try
        {
            using var stream = File.OpenRead(_path);
            list = JsonSerializer.Deserialize(stream, CheckpointJsonContext.Default.ListCheckpoint);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"log checkpoint file {_path} is damaged ({e.Message}); move it away to start over (files are then read per start_at)", e);
        }
        foreach (var c in list ?? []) _entries[c.Identity] = c;
    }
}
