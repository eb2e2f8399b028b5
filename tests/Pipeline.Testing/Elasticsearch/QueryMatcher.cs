using System.Globalization;
using System.Text.Json;

namespace Pipeline.Testing.Elasticsearch;

/// <summary>A query the test server cannot read, answered as Elasticsearch does: 400 <c>parsing_exception</c>.</summary>
internal sealed class QueryParseException(string reason) : Exception(reason);

/// <summary>
/// The part of the query DSL tests need: <c>match_all</c>, <c>match_none</c>, <c>term</c>, <c>terms</c>, <c>match</c>,
/// <c>ids</c>, <c>exists</c>, <c>range</c> and <c>bool</c> (<c>must</c>, <c>filter</c>, <c>should</c>, <c>must_not</c>).
/// Fields are dotted paths into the source; a <c>.keyword</c> suffix is ignored; <c>match</c> on a string matches
/// when any lower-cased word is shared, like the standard analyzer.
/// </summary>
internal static class QueryMatcher
{
    public static Func<StoredDocument, bool> Compile(JsonElement? query)
    {
        if (query is null) return _ => true;
        var q = query.Value;
        if (q.ValueKind != JsonValueKind.Object || q.EnumerateObject().Count() != 1)
        {
            throw new QueryParseException("[_na] query malformed, must start with start_object and have exactly one query");
        }
        var clause = q.EnumerateObject().First();
        var body = clause.Value;
        switch (clause.Name)
        {
            case "match_all":
                return _ => true;
            case "match_none":
                return _ => false;
            case "term":
            {
                var (field, value) = SingleField(clause.Name, body, "value");
                return doc => Values(doc, field).Any(v => TermEquals(v, value));
            }
            case "terms":
            {
                var (field, values) = SingleField(clause.Name, body, null);
                if (values.ValueKind != JsonValueKind.Array) throw new QueryParseException("[terms] query does not support [" + field + "]");
                var list = values.EnumerateArray().ToList();
                return doc => Values(doc, field).Any(v => list.Any(t => TermEquals(v, t)));
            }
            case "match":
            {
                var (field, value) = SingleField(clause.Name, body, "query");
                return doc => Values(doc, field).Any(v => MatchText(v, value));
            }
            case "ids":
            {
                if (!body.TryGetProperty("values", out var values)) throw new QueryParseException("[ids] requires [values]");
                var ids = values.EnumerateArray().Select(v => v.GetString()).ToHashSet(StringComparer.Ordinal);
                return doc => ids.Contains(doc.Id);
            }
            case "exists":
            {
                var field = body.TryGetProperty("field", out var f) ? f.GetString() ?? "" : throw new QueryParseException("[exists] must be provided with a [field]");
                return doc => Values(doc, field).Count > 0;
            }
            case "range":
            {
                var (field, bounds) = SingleField(clause.Name, body, null);
                return doc => Values(doc, field).Any(v => InRange(v, bounds));
            }
            case "bool":
                return Bool(body);
            default:
                throw new QueryParseException($"unknown query [{clause.Name}]");
        }
    }

    private static Func<StoredDocument, bool> Bool(JsonElement body)
    {
        List<Func<StoredDocument, bool>> Clauses(string name)
        {
            if (!body.TryGetProperty(name, out var value)) return [];
            return value.ValueKind == JsonValueKind.Array ? [.. value.EnumerateArray().Select(c => Compile(c))] : [Compile(value)];
        }
        var must = Clauses("must").Concat(Clauses("filter")).ToList();
        var should = Clauses("should");
        var mustNot = Clauses("must_not");
        var minimumShould = body.TryGetProperty("minimum_should_match", out var m) && m.TryGetInt32(out var min)
            ? min
            : (must.Count == 0 && should.Count > 0 ? 1 : 0);
        return doc => must.All(c => c(doc)) && !mustNot.Any(c => c(doc)) && should.Count(c => c(doc)) >= minimumShould;
    }

    private static (string Field, JsonElement Value) SingleField(string query, JsonElement body, string? valueKey)
    {
        if (body.ValueKind != JsonValueKind.Object || body.EnumerateObject().Count() != 1)
        {
            throw new QueryParseException($"[{query}] query doesn't support multiple fields, found [{string.Join(", ", body.EnumerateObject().Select(p => p.Name))}]");
        }
        var property = body.EnumerateObject().First();
        var value = property.Value;
        if (valueKey is not null && value.ValueKind == JsonValueKind.Object)
        {
            if (!value.TryGetProperty(valueKey, out value)) throw new QueryParseException($"[{query}] query requires [{valueKey}] for field [{property.Name}]");
        }
        return (property.Name, value);
    }

    public static List<JsonElement> Values(StoredDocument doc, string field)
    {
        var values = JsonPaths.Resolve(doc.Source, field);
        if (values.Count == 0 && field.EndsWith(".keyword", StringComparison.Ordinal))
        {
            values = JsonPaths.Resolve(doc.Source, field[..^".keyword".Length]);
        }
        return values;
    }

    private static bool TermEquals(JsonElement value, JsonElement term)
    {
        if (value.ValueKind == JsonValueKind.Number && TryNumber(term, out var t)) return value.GetDouble() == t;
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False) return Text(term) == (value.ValueKind == JsonValueKind.True ? "true" : "false");
        return Text(value) == Text(term);
    }

    private static bool MatchText(JsonElement value, JsonElement query)
    {
        if (value.ValueKind != JsonValueKind.String) return TermEquals(value, query);
        var words = Words(Text(query));
        return Words(value.GetString() ?? "").Overlaps(words);
    }

    private static HashSet<string> Words(string text)
    {
        var words = new HashSet<string>(StringComparer.Ordinal);
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var inWord = i < text.Length && char.IsLetterOrDigit(text[i]);
            if (inWord && start < 0) start = i;
            if (!inWord && start >= 0)
            {
                words.Add(text[start..i].ToLowerInvariant());
                start = -1;
            }
        }
        return words;
    }

    private static bool InRange(JsonElement value, JsonElement bounds)
    {
        foreach (var bound in bounds.EnumerateObject())
        {
            if (bound.Name is "format" or "time_zone" or "boost" or "relation") continue;
            var comparison = Compare(value, bound.Value);
            var ok = bound.Name switch
            {
                "gt" => comparison > 0,
                "gte" => comparison >= 0,
                "lt" => comparison < 0,
                "lte" => comparison <= 0,
                _ => throw new QueryParseException($"[range] query does not support [{bound.Name}]"),
            };
            if (!ok) return false;
        }
        return true;
    }

    /// <summary>Orders two values: numbers numerically, dates as instants, anything else as ordinal text.</summary>
    public static int Compare(JsonElement a, JsonElement b)
    {
        if (TryNumber(a, out var x) && TryNumber(b, out var y)) return x.CompareTo(y);
        if (TryDate(a, out var da) && TryDate(b, out var db)) return da.CompareTo(db);
        return string.CompareOrdinal(Text(a), Text(b));
    }

    private static bool TryNumber(JsonElement e, out double value)
    {
        value = 0;
        return e.ValueKind == JsonValueKind.Number ? e.TryGetDouble(out value)
            : e.ValueKind == JsonValueKind.String && double.TryParse(e.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    private static bool TryDate(JsonElement e, out DateTimeOffset value)
    {
        value = default;
        return e.ValueKind == JsonValueKind.String
            && DateTimeOffset.TryParse(e.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value);
    }

    private static string Text(JsonElement e) => e.ValueKind == JsonValueKind.String ? e.GetString() ?? "" : e.GetRawText();
}
