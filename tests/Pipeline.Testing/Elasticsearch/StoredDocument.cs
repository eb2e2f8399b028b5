using System.Text;
using System.Text.Json;

namespace Pipeline.Testing.Elasticsearch;

/// <summary>A document the test server holds, as a search would return it.</summary>
/// <param name="Target">The index or data stream the document was written to, e.g. <c>logs-ops.logs-default</c>.</param>
/// <param name="Index">The concrete index: for a data stream its backing index (<c>.ds-logs-ops.logs-default-2025.01.31-000001</c>), as real Elasticsearch reports it.</param>
/// <param name="Id">The <c>_id</c>.</param>
/// <param name="Version">1 when created; an <c>index</c> op over an existing id adds 1.</param>
/// <param name="Source">The parsed <c>_source</c>.</param>
/// <param name="RawSource">The source bytes exactly as they arrived on the wire (after gunzip).</param>
public sealed record StoredDocument(string Target, string Index, string Id, long Version, JsonElement Source, ReadOnlyMemory<byte> RawSource)
{
    /// <summary>The raw source as text.</summary>
    public string RawSourceText => Encoding.UTF8.GetString(RawSource.Span);
}
