using System.Text.Json;

namespace Pipeline.Testing.Elasticsearch;

/// <summary>Field paths and name patterns the way Elasticsearch reads them.</summary>
internal static class JsonPaths
{
    /// <summary>
    /// Every value at a dotted <paramref name="path"/> in a source document. Like Elasticsearch, nested objects
    /// (<c>{"host":{"name":..}}</c>) and dotted keys (<c>{"host.name":..}</c>) are the same field, and arrays are flattened.
    /// Nulls are not values.
    /// </summary>
    public static List<JsonElement> Resolve(JsonElement source, string path)
    {
        var found = new List<JsonElement>();
        Collect(source, path, found);
        return found;
    }

    private static void Collect(JsonElement element, string path, List<JsonElement> found)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray()) Collect(item, path, found);
                return;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    var name = property.Name;
                    if (name == path)
                    {
                        AddLeaves(property.Value, found);
                    }
                    else if (path.Length > name.Length && path[name.Length] == '.' && path.StartsWith(name, StringComparison.Ordinal))
                    {
                        Collect(property.Value, path[(name.Length + 1)..], found);
                    }
                }
                return;
        }
    }

    private static void AddLeaves(JsonElement value, List<JsonElement> found)
    {
        if (value.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in value.EnumerateArray()) AddLeaves(item, found);
        }
        else if (value.ValueKind != JsonValueKind.Null && value.ValueKind != JsonValueKind.Undefined)
        {
            found.Add(value);
        }
    }

    /// <summary>Simple wildcard match as index patterns use it: <c>*</c> matches any run of characters, everything else is literal.</summary>
    public static bool WildcardMatch(string pattern, string value)
    {
        int p = 0, v = 0, star = -1, mark = 0;
        while (v < value.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = v;
            }
            else if (p < pattern.Length && pattern[p] == value[v])
            {
                p++;
                v++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                v = ++mark;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }

    /// <summary>
    /// Whether two index patterns can match a common name. An approximation of Elasticsearch's automaton check:
    /// it compares the literal prefixes before the first <c>*</c> and the literal suffixes after the last one.
    /// </summary>
    public static bool PatternsOverlap(string a, string b)
    {
        var prefixA = a.Split('*')[0];
        var prefixB = b.Split('*')[0];
        if (!prefixA.StartsWith(prefixB, StringComparison.Ordinal) && !prefixB.StartsWith(prefixA, StringComparison.Ordinal)) return false;
        if (!a.Contains('*') && !b.Contains('*')) return a == b;
        if (!a.Contains('*')) return WildcardMatch(b, a);
        if (!b.Contains('*')) return WildcardMatch(a, b);
        var suffixA = a[(a.LastIndexOf('*') + 1)..];
        var suffixB = b[(b.LastIndexOf('*') + 1)..];
        return suffixA.EndsWith(suffixB, StringComparison.Ordinal) || suffixB.EndsWith(suffixA, StringComparison.Ordinal);
    }

    /// <summary>A short preview of a value, as Elasticsearch quotes it in parsing errors.</summary>
    public static string Preview(JsonElement value)
    {
        var text = value.ValueKind == JsonValueKind.String ? value.GetString() ?? "" : value.GetRawText();
        return text.Length <= 60 ? text : text[..60] + "...";
    }
}
