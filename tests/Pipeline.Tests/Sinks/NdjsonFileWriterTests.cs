using System.Text.Json;
using Pipeline.Sinks;
using Pipeline.Sinks.Files;
using Pipeline.Testing;
using Pipeline.Testing.Elasticsearch;

namespace Pipeline.Tests.Sinks;

public class NdjsonFileWriterTests
{
    [Fact]
    public async Task TheFilesAreBulkRequestsThatElasticsearchLoadsWithoutDuplicates()
    {
        using var dir = new TempDirectory();
        await using var writer = new NdjsonFileWriter(dir.Path);
        await writer.InitializeAsync(CancellationToken.None);
        var records = Enumerable.Range(0, 3).Select(i => new SinkRecord("ops.logs.v1", 0, i,
            System.Text.Encoding.UTF8.GetBytes($"{{\"@timestamp\":\"2026-11-27T00:00:0{i}Z\",\"event\":{{\"id\":\"id{i}\"}},\"message\":\"m{i}\"}}"),
            $"id{i}", "logs-ops.logs-default")).ToList();
        var results = await writer.WriteAsync(records, CancellationToken.None);
        Assert.All(results, r => Assert.Equal(ItemOutcome.Created, r.Outcome));
        // A replay appends the same records again.
        await writer.WriteAsync(records.Take(2).ToList(), CancellationToken.None);
        await writer.DisposeAsync();

        var body = await File.ReadAllBytesAsync(writer.PathFor("logs-ops.logs-default"));
        var lines = System.Text.Encoding.UTF8.GetString(body).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(10, lines.Length);
        Assert.Equal("create", JsonDocument.Parse(lines[0]).RootElement.EnumerateObject().First().Name);

        // Load it the way the README says (POST _bulk) into the Elasticsearch-compatible server.
        await using var es = await ElasticsearchTestServer.StartAsync();
        using var http = new HttpClient();
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-ndjson");
        using var response = await http.PostAsync(new Uri(es.Url, "_bulk"), content);
        var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var statuses = answer.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("create").GetProperty("status").GetInt32()).ToList();
        Assert.Equal([201, 201, 201, 409, 409], statuses);
        Assert.Equal(3, es.Documents("logs-ops.logs-default").Count);
    }
}

public class NdjsonFileRotationTests
{
    [Fact]
    public async Task AFileThatWouldGrowPastItsLimitIsRotatedAndEveryRecordIsKeptOnceInOrder()
    {
        using var dir = new TempDirectory();
        await using var writer = new NdjsonFileWriter(dir.Path, maxFileBytes: 2048);
        await writer.InitializeAsync(CancellationToken.None);
        var records = Enumerable.Range(0, 60).Select(i => new SinkRecord("ops.logs.v1", 0, i,
            System.Text.Encoding.UTF8.GetBytes($"{{\"@timestamp\":\"2026-11-27T00:00:00Z\",\"event\":{{\"id\":\"id{i}\"}},\"message\":\"m{i}\"}}"),
            $"id{i}", "logs-ops.logs-default")).ToList();

        for (int i = 0; i < records.Count; i += 7) await writer.WriteAsync(records.Skip(i).Take(7).ToList(), CancellationToken.None);
        await writer.DisposeAsync();

        var files = writer.FilesFor("logs-ops.logs-default");
        Assert.True(files.Count > 3, $"{files.Count} files");
        Assert.All(files, f => Assert.True(new FileInfo(f).Length <= 2048, $"{f}: {new FileInfo(f).Length} bytes"));
        var ids = files.SelectMany(File.ReadAllLines).Where(l => l.StartsWith("{\"create\"", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("create").GetProperty("_id").GetString()).ToList();
        Assert.Equal(records.Select(r => r.DocumentId), ids);
    }
}
