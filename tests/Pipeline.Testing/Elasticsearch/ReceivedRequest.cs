namespace Pipeline.Testing.Elasticsearch;

/// <summary>One HTTP request the test server received, logged once it was answered (or dropped).</summary>
/// <param name="Method">HTTP method.</param>
/// <param name="Path">Path without the query string, e.g. <c>/_bulk</c>.</param>
/// <param name="Query">Query string including the leading <c>?</c>, or empty.</param>
/// <param name="WasGzipped">The body arrived with <c>Content-Encoding: gzip</c>.</param>
/// <param name="WireBytes">Body length as sent (compressed when gzipped).</param>
/// <param name="BodyBytes">Body length after gunzip.</param>
/// <param name="Status">The status answered; 0 when the connection was dropped without an answer.</param>
/// <param name="Headers">Request headers (names as sent; look-ups ignore case).</param>
public sealed record ReceivedRequest(
    string Method,
    string Path,
    string Query,
    bool WasGzipped,
    int WireBytes,
    int BodyBytes,
    int Status,
    IReadOnlyDictionary<string, string> Headers)
{
    public string? ContentType => Headers.TryGetValue("Content-Type", out var v) ? v : null;

    public string? Authorization => Headers.TryGetValue("Authorization", out var v) ? v : null;

    public override string ToString() => $"{Method} {Path}{Query} -> {Status}";
}
