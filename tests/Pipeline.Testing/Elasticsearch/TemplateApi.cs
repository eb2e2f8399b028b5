using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Pipeline.Testing.Elasticsearch;

/// <summary><c>_index_template</c> (composable templates) and <c>_ilm/policy</c>: stored, validated and read back as Elasticsearch shows them.</summary>
internal static class TemplateApi
{
    public static EsResponse PutIndexTemplate(ClusterState state, string name, IQueryCollection query, byte[] body)
    {
        if (!TryParse(body, out var root, out var parseError)) return parseError!;
        var invalid = RequestValidation.IndexTemplate(root);
        if (invalid is not null) return EsResponse.Error(400, invalid);
        var template = ClusterState.ToTemplate(name, root);
        lock (state.Gate)
        {
            var error = state.PutTemplate(template, createOnly: query["create"] == "true");
            return error is null ? EsResponse.Acknowledged : EsResponse.Error(400, error);
        }
    }

    public static EsResponse GetIndexTemplates(ClusterState state, string? names, bool headOnly)
    {
        List<IndexTemplate> found;
        lock (state.Gate)
        {
            found = [.. state.Templates.Where(t => names is null || names.Split(',').Any(n => JsonPaths.WildcardMatch(n, t.Name))).OrderBy(t => t.Name, StringComparer.Ordinal)];
        }
        if (found.Count == 0 && names is not null && !names.Contains('*'))
        {
            return headOnly ? EsResponse.NoBody(404) : EsResponse.Error(404, "resource_not_found_exception", $"index template matching [{names}] not found");
        }
        if (headOnly) return EsResponse.NoBody(200);
        return EsResponse.Ok(w =>
        {
            w.WriteStartObject();
            w.WritePropertyName("index_templates");
            w.WriteStartArray();
            foreach (var template in found)
            {
                w.WriteStartObject();
                w.WriteString("name", template.Name);
                w.WritePropertyName("index_template");
                WriteNormalised(w, template);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    public static EsResponse DeleteIndexTemplate(ClusterState state, string name)
    {
        lock (state.Gate)
        {
            return state.DeleteTemplate(name)
                ? EsResponse.Acknowledged
                : EsResponse.Error(404, "index_template_missing_exception", $"index_template [{name}] missing");
        }
    }

    /// <summary>A template as <c>GET _index_template</c> shows it: patterns as a list, <c>composed_of</c> always present, settings nested with string values, <c>data_stream</c> spelled out.</summary>
    private static void WriteNormalised(Utf8JsonWriter w, IndexTemplate template)
    {
        var body = template.Body;
        w.WriteStartObject();
        w.WritePropertyName("index_patterns");
        w.WriteStartArray();
        foreach (var pattern in template.Patterns) w.WriteStringValue(pattern);
        w.WriteEndArray();
        if (body.TryGetProperty("template", out var inner))
        {
            w.WritePropertyName("template");
            w.WriteStartObject();
            foreach (var property in inner.EnumerateObject())
            {
                if (property.Name == "settings")
                {
                    var flat = new Dictionary<string, string>(StringComparer.Ordinal);
                    ClusterState.FlattenSettings(property.Value, "", flat);
                    w.WritePropertyName("settings");
                    WriteNested(w, flat);
                }
                else
                {
                    property.WriteTo(w);
                }
            }
            w.WriteEndObject();
        }
        w.WritePropertyName("composed_of");
        if (body.TryGetProperty("composed_of", out var composed)) composed.WriteTo(w);
        else
        {
            w.WriteStartArray();
            w.WriteEndArray();
        }
        w.WriteNumber("priority", template.Priority);
        foreach (var property in body.EnumerateObject())
        {
            if (property.Name is "version" or "_meta" or "allow_auto_create" or "ignore_missing_component_templates" or "deprecated") property.WriteTo(w);
        }
        if (template.IsDataStream)
        {
            w.WritePropertyName("data_stream");
            w.WriteStartObject();
            var ds = body.GetProperty("data_stream");
            w.WriteBoolean("hidden", ds.TryGetProperty("hidden", out var hidden) && hidden.ValueKind == JsonValueKind.True);
            w.WriteBoolean("allow_custom_routing", ds.TryGetProperty("allow_custom_routing", out var routing) && routing.ValueKind == JsonValueKind.True);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    private static void WriteNested(Utf8JsonWriter w, Dictionary<string, string> flat)
    {
        var root = new SortedDictionary<string, object>(StringComparer.Ordinal);
        foreach (var (key, value) in flat)
        {
            var node = root;
            var parts = key.Split('.');
            for (var i = 0; i < parts.Length - 1; i++)
            {
                if (!node.TryGetValue(parts[i], out var child) || child is not SortedDictionary<string, object> next)
                {
                    next = new SortedDictionary<string, object>(StringComparer.Ordinal);
                    node[parts[i]] = next;
                }
                node = next;
            }
            node[parts[^1]] = value;
        }
        Write(root);

        void Write(SortedDictionary<string, object> node)
        {
            w.WriteStartObject();
            foreach (var (key, value) in node)
            {
                w.WritePropertyName(key);
                if (value is SortedDictionary<string, object> child) Write(child);
                else w.WriteStringValue((string)value);
            }
            w.WriteEndObject();
        }
    }

    public static EsResponse PutLifecyclePolicy(ClusterState state, string name, byte[] body)
    {
        if (!TryParse(body, out var root, out var parseError)) return parseError!;
        var invalid = RequestValidation.LifecyclePolicy(root);
        if (invalid is not null) return EsResponse.Error(400, invalid);
        lock (state.Gate)
        {
            state.PutPolicy(name, root.GetProperty("policy"));
        }
        return EsResponse.Acknowledged;
    }

    public static EsResponse GetLifecyclePolicies(ClusterState state, string? name)
    {
        List<LifecyclePolicy> found;
        lock (state.Gate)
        {
            found = [.. state.Policies.Values.Where(p => name is null || name.Split(',').Any(n => JsonPaths.WildcardMatch(n, p.Name)))];
        }
        if (found.Count == 0 && name is not null)
        {
            return EsResponse.Error(404, "resource_not_found_exception", $"Lifecycle policy not found: [{name}]");
        }
        return EsResponse.Ok(w =>
        {
            w.WriteStartObject();
            foreach (var policy in found)
            {
                w.WritePropertyName(policy.Name);
                w.WriteStartObject();
                w.WriteNumber("version", policy.Version);
                w.WriteString("modified_date", policy.ModifiedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
                w.WritePropertyName("policy");
                policy.Policy.WriteTo(w);
                w.WritePropertyName("in_use_by");
                w.WriteStartObject();
                foreach (var kind in new[] { "indices", "data_streams", "composable_templates" })
                {
                    w.WritePropertyName(kind);
                    w.WriteStartArray();
                    w.WriteEndArray();
                }
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        });
    }

    private static bool TryParse(byte[] body, out JsonElement root, out EsResponse? error)
    {
        root = default;
        error = null;
        if (body.Length == 0)
        {
            error = EsResponse.Error(400, "parse_exception", "request body is required");
            return false;
        }
        try
        {
            using var doc = JsonDocument.Parse(body);
            root = doc.RootElement.Clone();
            return true;
        }
        catch (JsonException e)
        {
            error = EsResponse.Error(400, "x_content_parse_exception", $"[1:1] {e.Message}");
            return false;
        }
    }
}
