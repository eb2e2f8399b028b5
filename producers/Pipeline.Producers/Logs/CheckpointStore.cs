using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;

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

/// <summary>The registry file since format 2: the entries under a format name and version.</summary>
public sealed record RegistryFile
{
    [JsonPropertyName("format")] public string Format { get; init; } = CheckpointStore.FormatName;
    [JsonPropertyName("version")] public int Version { get; init; } = CheckpointStore.FormatVersion;
    [JsonPropertyName("entries")] public List<Checkpoint> Entries { get; init; } = [];
}

[JsonSerializable(typeof(List<Checkpoint>))]
[JsonSerializable(typeof(RegistryFile))]
[JsonSourceGenerationOptions(WriteIndented = true)]
internal sealed partial class CheckpointJsonContext : JsonSerializerContext;

/// <summary>
/// The log tailer's registry, one JSON file at <c>&lt;data_dir&gt;/registry</c>. Written atomically (temp
/// file, fsync, rename) so a crash leaves either the old or the new state, never half of one. Only
/// acknowledged offsets are ever written: after a crash lines are re-sent, never skipped. A registry
/// that cannot be read is moved aside with a warning rather than stopping the agent: re-reading per
/// <c>start_at</c> is better than shipping nothing.
/// <para>
/// Versions: format 1 (up to 0.1.0) was a bare JSON array of entries; format 2 wraps them as
/// <c>{"format": "pipeline-registry", "version": 2, "entries": [...]}</c>. An older format is migrated at
/// load and written back at once, atomically; a newer one is refused with <see cref="NewerStateFormatException"/>.
/// </para>
/// </summary>
public sealed class CheckpointStore
{
    public const string FormatName = "pipeline-registry";
    public const int FormatVersion = 2;

    private readonly string _path;
    private readonly ILogger? _logger;
    private readonly Dictionary<string, Checkpoint> _entries = new(StringComparer.Ordinal);

    public CheckpointStore(string path, ILogger? logger = null)
    {
        _path = path;
        _logger = logger;
        Load();
    }

    /// <summary>The registry of <paramref name="dataDir"/>, taking over the file older versions kept at <c>checkpoints/logs.json</c>.</summary>
    public static CheckpointStore OpenRegistry(string dataDir, ILogger? logger = null)
    {
        var path = RegistryPath(dataDir);
        var legacy = System.IO.Path.Combine(dataDir, "checkpoints", "logs.json");
        if (!File.Exists(path) && File.Exists(legacy))
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
            File.Move(legacy, path);
            logger?.LogInformation("moved the log registry from {Legacy} to {Path}", legacy, path);
        }
        return new CheckpointStore(path, logger);
    }

    public static string RegistryPath(string dataDir) => System.IO.Path.Combine(dataDir, "registry");

    public string Path => _path;

    /// <summary>The format version the file had at load (0: there was no file).</summary>
    public int LoadedVersion { get; private set; }

    /// <summary>Where a damaged registry was moved to at load, or null.</summary>
    public string? MovedAside { get; private set; }

    public IReadOnlyCollection<Checkpoint> Entries => _entries.Values;

    public Checkpoint? Get(string identity) => _entries.GetValueOrDefault(identity);

    public void Set(Checkpoint checkpoint) => _entries[checkpoint.Identity] = checkpoint;

    /// <summary>Forgets files not seen for <paramref name="age"/>, so the registry does not grow forever.</summary>
    public void Prune(DateTimeOffset now, TimeSpan age)
    {
        List<string>? old = null;
        foreach (var (key, entry) in _entries)
        {
            if (now - entry.Seen > age) (old ??= []).Add(key);
        }
        if (old is null) return;
        foreach (var key in old) _entries.Remove(key);
    }

    public void Save() => Write(Snapshot());

    /// <summary>The entries as they are now; <see cref="Write"/> may write it from another thread.</summary>
    public List<Checkpoint> Snapshot() => new(_entries.Values);

    /// <summary>Writes <paramref name="snapshot"/> as the registry: temp file, fsync, rename.</summary>
    public void Write(List<Checkpoint> snapshot)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(_path))!);
        var tmp = _path + ".tmp";
        using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, new RegistryFile { Entries = snapshot }, CheckpointJsonContext.Default.RegistryFile);
            stream.Flush(flushToDisk: true);
        }
        File.Move(tmp, _path, overwrite: true);
    }

    private void Load()
    {
        if (!File.Exists(_path)) return;
        (int version, List<Checkpoint> list) loaded;
        try
        {
            loaded = Read(_path);
        }
        catch (JsonException e)
        {
            MoveAside(e.Message);
            return;
        }
        LoadedVersion = loaded.version;
        foreach (var c in loaded.list)
        {
            // A hand-edited entry without an identity cannot match any file.
            if (c?.Identity is not null) _entries[c.Identity] = c;
        }
        if (loaded.version < FormatVersion)
        {
            // Written back before anything is read, so a crash right after still finds a readable registry.
            Save();
            _logger?.LogInformation("migrated the log registry {Path} from format {Old} to {New} ({Count} files)", _path, loaded.version, FormatVersion, _entries.Count);
        }
    }

    /// <summary>
    /// Reads a registry file of any known format without changing it (for <c>pipeline doctor</c>).
    /// Throws <see cref="JsonException"/> when it is damaged, <see cref="NewerStateFormatException"/> when it is newer than this build.
    /// </summary>
    public static (int Version, List<Checkpoint> Entries) Read(string path)
    {
        using var stream = File.OpenRead(path);
        using var document = JsonDocument.Parse(stream);
        var root = document.RootElement;
        if (root.ValueKind == JsonValueKind.Array)
        {
            return (1, root.Deserialize(CheckpointJsonContext.Default.ListCheckpoint) ?? []);
        }
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("version", out var v) || !v.TryGetInt32(out int version) || version < 2)
        {
            throw new JsonException("neither a format 1 registry (a JSON array) nor one with a format version");
        }
        if (version > FormatVersion) throw new NewerStateFormatException(path, "log registry", version, FormatVersion);
        var file = root.Deserialize(CheckpointJsonContext.Default.RegistryFile) ?? new RegistryFile();
        return (version, file.Entries ?? []);
    }

    private void MoveAside(string error)
    {
        var aside = $"{_path}.damaged-{DateTime.UtcNow:yyyyMMdd'T'HHmmss'Z'}";
        File.Move(_path, aside, overwrite: true);
        MovedAside = aside;
        _logger?.LogWarning(
            "the log registry {Path} is damaged ({Error}); moved it to {Aside} and starting over: files are read again per start_at",
            _path, error, aside);
    }
}
