using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Pipeline.Testing.Elasticsearch;

/// <summary><c>GET|POST /{target}/_search</c> and <c>/{target}/_count</c> over the stored documents, in write order unless sorted.</summary>
internal static class SearchApi
{
    private static readonly HashSet<string> IgnoredBodyFields =
        ["track_total_hits", "timeout", "_source", "stored_fields", "docvalue_fields", "fields", "seq_no_primary_term", "version", "explain", "min_score", "highlight", "aggs", "aggregations", "runtime_mappings", "pit", "search_after", "collapse"];

    public static EsResponse Search(ClusterState state, string? expression, IQueryCollection query, byte[] body) =>
        Run(state, expression, query, body, count: false);

    public static EsResponse Count(ClusterState state, string? expression, IQueryCollection query, byte[] body) =>
        Run(state, expression, query, body, count: true);

    private static EsResponse Run(ClusterState state, string? expression, IQueryCollection query, byte[] body, bool count)
    {
        JsonElement? queryClause = null;
        JsonElement? sort = null;
        var size = int.TryParse(query["size"], CultureInfo.InvariantCulture, out var s) ? s : 10;
        var from = int.TryParse(query["from"], CultureInfo.InvariantCulture, out var f) ? f : 0;
        if (body.Length > 0)
        {
            JsonElement root;
            try
            {
                using var doc = JsonDocument.Parse(body);
                root = doc.RootElement.Clone();
            }
            catch (JsonException e)
            {
                return EsResponse.Error(400, "x_content_parse_exception", $"[1:1] {e.Message}");
            }
            foreach (var property in root.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "query": queryClause = property.Value; break;
                    case "size": size = property.Value.GetInt32(); break;
                    case "from": from = property.Value.GetInt32(); break;
                    case "sort": sort = property.Value; break;
                    default:
                        if (count || !IgnoredBodyFields.Contains(property.Name))
                        {
                            return EsResponse.Error(400, "parsing_exception", $"Unknown key for a START_OBJECT in [{property.Name}].");
                        }
                        break;
                }
            }
        }

        Func<StoredDocument, bool> predicate;
        try
        {
            predicate = QueryMatcher.Compile(queryClause);
        }
        catch (QueryParseException e)
        {
            return EsResponse.Error(400, "parsing_exception", e.Message);
        }

        List<StoredDocument> matches;
        lock (state.Gate)
        {
            var targets = state.Resolve(expression, out var missing);
            if (missing is not null && query["ignore_unavailable"] != "true")
            {
                return EsResponse.Error(404, new EsError("index_not_found_exception", $"no such index [{missing}]", missing));
            }
            matches = [.. targets.SelectMany(t => t.Documents).Where(predicate)];
        }

        var sortKeys = sort is null ? [] : SortKeys(sort.Value);
        if (sortKeys.Count > 0) matches.Sort((a, b) => CompareBy(sortKeys, a, b));

        if (count)
        {
            return EsResponse.Ok(w =>
            {
                w.WriteStartObject();
                w.WriteNumber("count", matches.Count);
                WriteShards(w);
                w.WriteEndObject();
            });
        }

        var page = matches.Skip(from).Take(size).ToList();
        return EsResponse.Ok(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("took", 1);
            w.WriteBoolean("timed_out", false);
            WriteShards(w);
            w.WritePropertyName("hits");
            w.WriteStartObject();
            w.WritePropertyName("total");
            w.WriteStartObject();
            w.WriteNumber("value", matches.Count);
            w.WriteString("relation", "eq");
            w.WriteEndObject();
            if (sortKeys.Count > 0 || matches.Count == 0) w.WriteNull("max_score");
            else w.WriteNumber("max_score", 1.0);
            w.WritePropertyName("hits");
            w.WriteStartArray();
            foreach (var doc in page)
            {
                w.WriteStartObject();
                w.WriteString("_index", doc.Index);
                w.WriteString("_id", doc.Id);
                if (sortKeys.Count > 0) w.WriteNull("_score");
                else w.WriteNumber("_score", 1.0);
                w.WritePropertyName("_source");
                w.WriteRawValue(doc.RawSource.Span, skipInputValidation: true);
                if (sortKeys.Count > 0)
                {
                    w.WritePropertyName("sort");
                    w.WriteStartArray();
                    foreach (var (field, _) in sortKeys)
                    {
                        var values = QueryMatcher.Values(doc, field);
                        if (values.Count == 0) w.WriteNullValue();
                        else values[0].WriteTo(w);
                    }
                    w.WriteEndArray();
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        });
    }

    private static void WriteShards(Utf8JsonWriter w)
    {
        w.WritePropertyName("_shards");
        w.WriteStartObject();
        w.WriteNumber("total", 1);
        w.WriteNumber("successful", 1);
        w.WriteNumber("skipped", 0);
        w.WriteNumber("failed", 0);
        w.WriteEndObject();
    }

    private static List<(string Field, bool Descending)> SortKeys(JsonElement sort)
    {
        var keys = new List<(string, bool)>();
        var entries = sort.ValueKind == JsonValueKind.Array ? sort.EnumerateArray().ToList() : [sort];
        foreach (var entry in entries)
        {
            if (entry.ValueKind == JsonValueKind.String)
            {
                keys.Add((entry.GetString()!, false));
                continue;
            }
            foreach (var property in entry.EnumerateObject())
            {
                var order = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()
                    : property.Value.TryGetProperty("order", out var o) ? o.GetString() : "asc";
                keys.Add((property.Name, order == "desc"));
            }
        }
        return [.. keys.Where(k => k.Item1 is not ("_score" or "_doc"))];
    }

    private static int CompareBy(List<(string Field, bool Descending)> keys, StoredDocument a, StoredDocument b)
    {
        foreach (var (field, descending) in keys)
        {
            var va = QueryMatcher.Values(a, field);
            var vb = QueryMatcher.Values(b, field);
            // Documents without the field sort last either way, as with Elasticsearch's default "missing": "_last".
            var c = (va.Count, vb.Count) switch
            {
                (0, 0) => 0,
                (0, _) => 1,
                (_, 0) => -1,
                _ => descending ? -QueryMatcher.Compare(va[0], vb[0]) : QueryMatcher.Compare(va[0], vb[0]),
            };
            if (c != 0) return c;
        }
        return 0;
    }
}
