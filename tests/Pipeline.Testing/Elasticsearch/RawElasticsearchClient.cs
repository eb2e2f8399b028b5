using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Pipeline.Testing.Elasticsearch;

/// <summary>The answer to a raw request: status, headers and the parsed JSON body (<see cref="JsonValueKind.Undefined"/> when there was none).</summary>
public sealed record RawResponse(int Status, JsonElement Body, HttpResponseHeaders Headers, string? ContentType)
{
    /// <summary>The value at a dotted path of the body, e.g. <c>error.type</c> or <c>items</c>.</summary>
    public JsonElement At(string path)
    {
        var element = Body;
        foreach (var part in path.Split('.'))
        {
            element = element.ValueKind == JsonValueKind.Array && int.TryParse(part, out var index) ? element[index] : element.GetProperty(part);
        }
        return element;
    }
}

/// <summary>
/// Plain HTTP to an Elasticsearch (the test server or a real one), for tests that must control the exact bytes and
/// headers, or look at answers the official client hides.
/// </summary>
public sealed class RawElasticsearchClient(Uri url, string? authorization = null) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };

    public async Task<RawResponse> SendAsync(HttpMethod method, string pathAndQuery, string? body = null,
        string contentType = "application/json", bool gzip = false, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(method, pathAndQuery.TrimStart('/'));
        if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);
        if (body is not null)
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            if (gzip)
            {
                using var compressed = new MemoryStream();
                using (var zip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true)) zip.Write(bytes);
                bytes = compressed.ToArray();
            }
            request.Content = new ByteArrayContent(bytes);
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            if (gzip) request.Content.Headers.ContentEncoding.Add("gzip");
        }
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var json = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return new RawResponse((int)response.StatusCode, json, response.Headers, response.Content.Headers.ContentType?.ToString());
    }

    public Task<RawResponse> GetAsync(string pathAndQuery, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, pathAndQuery, cancellationToken: cancellationToken);

    public Task<RawResponse> PutAsync(string pathAndQuery, string body, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, pathAndQuery, body, cancellationToken: cancellationToken);

    public Task<RawResponse> PostAsync(string pathAndQuery, string body, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, pathAndQuery, body, cancellationToken: cancellationToken);

    /// <summary>A bulk request from NDJSON lines (the trailing newline is added).</summary>
    public Task<RawResponse> BulkAsync(IEnumerable<string> lines, string path = "/_bulk", CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, path, string.Join("\n", lines) + "\n", "application/x-ndjson", cancellationToken: cancellationToken);

    public void Dispose() => _http.Dispose();
}
