using System.Text;

namespace Pipeline.Sinks.Files;

/// <summary>
/// Writes events as Elasticsearch <c>_bulk</c> NDJSON (a <c>create</c> action line with the stable
/// <c>_id</c>, then the document) to one file per data stream under <c>data_dir/ndjson</c>. Used when no
/// Elasticsearch is configured; load later with
/// <c>curl -H 'Content-Type: application/x-ndjson' --data-binary @FILE http://es:9200/_bulk</c>.
/// A replay may append a record twice; the <c>create</c> + <c>_id</c> makes Elasticsearch keep one.
/// </summary>
public sealed class NdjsonFileWriter(string directory) : IBatchWriter
{
    private readonly Dictionary<string, FileStream> _files = new(StringComparer.Ordinal);

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
        try
        {
            foreach (var record in batch)
            {
                var file = File(record.DataStream);
                WriteAction(file, record);
                file.Write(record.Value);
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
        return Task.FromResult<IReadOnlyList<ItemResult>>(results);
    }

    public string PathFor(string dataStream) => Path.Combine(directory, dataStream + ".ndjson");

    private FileStream File(string dataStream)
    {
        if (!_files.TryGetValue(dataStream, out var file))
        {
            file = new FileStream(PathFor(dataStream), FileMode.Append, FileAccess.Write, FileShare.Read, 64 * 1024);
            _files[dataStream] = file;
        }
        return file;
    }

    private static void WriteAction(FileStream file, SinkRecord record)
    {
        // Ids and stream names are [a-z0-9.-]: no JSON escaping needed.
        Span<byte> head = stackalloc byte[256];
        int n = Encoding.UTF8.GetBytes($"{{\"create\":{{\"_index\":\"{record.DataStream}\",\"_id\":\"{record.DocumentId}\"}}}}\n", head);
        file.Write(head[..n]);
    }

    public ValueTask DisposeAsync()
    {
        foreach (var file in _files.Values) file.Dispose();
        _files.Clear();
        return ValueTask.CompletedTask;
    }
}
