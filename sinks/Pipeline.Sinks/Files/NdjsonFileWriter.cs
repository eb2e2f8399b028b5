using System.Globalization;
using System.Text;

namespace Pipeline.Sinks.Files;

/// <summary>
/// Writes events as Elasticsearch <c>_bulk</c> NDJSON (a <c>create</c> action line with the stable
/// <c>_id</c>, then the document) to one file per data stream under <c>data_dir/ndjson</c>. Used when no
/// Elasticsearch is configured; load later with
/// <c>curl -H 'Content-Type: application/x-ndjson' --data-binary @FILE http://es:9200/_bulk</c>.
/// A replay may append a record twice; the <c>create</c> + <c>_id</c> makes Elasticsearch keep one.
/// When a file would grow past <c>sinks.ndjson_max_file_bytes</c> it is renamed with a UTC timestamp
/// (<c>logs-ops.logs-default.20261127T122207.123-000001Z.ndjson</c>) and a new one is started, so each file stays a
/// request Elasticsearch accepts. Writes are serialized: several batches may be in flight at once.
/// </summary>
public sealed class NdjsonFileWriter(string directory, long maxFileBytes = NdjsonFileWriter.DefaultMaxFileBytes) : IBatchWriter
{
    public const long DefaultMaxFileBytes = 128L * 1024 * 1024;

    private readonly Dictionary<string, FileStream> _files = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private int _rotations;

    public string Name => "ndjson";

    public string Directory => directory;

    public Task InitializeAsync(CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(directory);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<ItemResult>> WriteAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellationToken)
    {
        var results = new ItemResult[batch.Count];
        Span<byte> action = stackalloc byte[512];
        lock (_gate)
        {
            try
            {
                foreach (var record in batch)
                {
                    int actionLength = Action(record, action);
                    var file = File(record.DataStream, actionLength + record.Value.Length + 2);
                    file.Write(action[..actionLength]);
                    WriteValue(file, record.Value);
                    file.WriteByte((byte)'\n');
                }
                // Durable before the caller commits offsets.
                foreach (var file in _files.Values) file.Flush(flushToDisk: true);
                Array.Fill(results, ItemResult.Created);
            }
            catch (IOException e)
            {
                Array.Fill(results, new ItemResult(ItemOutcome.Retry, "io_error", e.Message));
            }
        }
        return Task.FromResult<IReadOnlyList<ItemResult>>(results);
    }

    /// <summary>The file currently written for <paramref name="dataStream"/>.</summary>
    public string PathFor(string dataStream) => Path.Combine(directory, dataStream + ".ndjson");

    /// <summary>Every file of <paramref name="dataStream"/>, rotated ones first (oldest first), the current one last.</summary>
    public IReadOnlyList<string> FilesFor(string dataStream)
    {
        var rotated = System.IO.Directory.GetFiles(directory, dataStream + ".*Z.ndjson");
        Array.Sort(rotated, StringComparer.Ordinal);
        var current = PathFor(dataStream);
        return System.IO.File.Exists(current) ? [.. rotated, current] : rotated;
    }

    private FileStream File(string dataStream, long nextWrite)
    {
        if (_files.TryGetValue(dataStream, out var file))
        {
            if (file.Length == 0 || file.Length + nextWrite <= maxFileBytes) return file;
            file.Flush(flushToDisk: true);
            file.Dispose();
            Rotate(dataStream);
        }
        file = new FileStream(PathFor(dataStream), FileMode.Append, FileAccess.Write, FileShare.Read, 64 * 1024);
        _files[dataStream] = file;
        return file;
    }

    private void Rotate(string dataStream)
    {
        // The sequence keeps names unique and in order when two rotations fall in the same millisecond.
        var stamp = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss.fff", CultureInfo.InvariantCulture);
        System.IO.File.Move(PathFor(dataStream), Path.Combine(directory, $"{dataStream}.{stamp}-{++_rotations:D6}Z.ndjson"));
    }

    private static int Action(SinkRecord record, Span<byte> buffer)
    {
        // Ids and stream names are [a-z0-9.-]: no JSON escaping needed.
        if (Encoding.UTF8.TryGetBytes($"{{\"create\":{{\"_index\":\"{record.DataStream}\",\"_id\":\"{record.DocumentId}\"}}}}\n", buffer, out int n)) return n;
        throw new IOException($"document id too long for an NDJSON action line: {record.DocumentId.Length} characters");
    }

    // A raw newline (whitespace between JSON tokens) would end the NDJSON line early; it becomes a space, as in bulk requests.
    private static void WriteValue(FileStream file, byte[] value)
    {
        if (value.AsSpan().IndexOfAny((byte)'\n', (byte)'\r') < 0)
        {
            file.Write(value);
            return;
        }
        var copy = (byte[])value.Clone();
        copy.AsSpan().Replace((byte)'\n', (byte)' ');
        copy.AsSpan().Replace((byte)'\r', (byte)' ');
        file.Write(copy);
    }

    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            foreach (var file in _files.Values) file.Dispose();
            _files.Clear();
        }
        return ValueTask.CompletedTask;
    }
}
