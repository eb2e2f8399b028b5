using System.Text.Json;
using System.Text.RegularExpressions;

namespace Pipeline.Testing.Elasticsearch;

/// <summary>
/// The checks Elasticsearch makes on index templates and ILM policies before it stores them, so that a typo in a
/// template body fails in a test the way it fails in production: unknown fields, unknown mapping types, parameters a
/// field type does not take, and malformed durations and sizes.
/// </summary>
internal static partial class RequestValidation
{
    private static readonly HashSet<string> TemplateFields =
        ["index_patterns", "composed_of", "template", "priority", "version", "_meta", "data_stream", "allow_auto_create", "ignore_missing_component_templates", "deprecated"];

    private static readonly HashSet<string> TemplateBodyFields = ["settings", "mappings", "aliases", "lifecycle", "data_stream_options"];

    private static readonly HashSet<string> RootMappingFields =
        ["properties", "dynamic", "dynamic_templates", "date_detection", "numeric_detection", "dynamic_date_formats", "_source", "_meta", "_routing", "runtime", "subobjects", "_data_stream_timestamp"];

    private static readonly HashSet<string> Common = ["type", "meta", "copy_to"];
    private static readonly HashSet<string> Keyword = [.. Common, "ignore_above", "index", "doc_values", "store", "null_value", "normalizer", "norms", "eager_global_ordinals", "fields", "similarity", "index_options", "split_queries_on_whitespace", "time_series_dimension", "script", "on_script_error"];
    private static readonly HashSet<string> Text = [.. Common, "analyzer", "search_analyzer", "search_quote_analyzer", "index", "index_options", "index_phrases", "index_prefixes", "norms", "position_increment_gap", "store", "similarity", "term_vector", "fields", "fielddata", "fielddata_frequency_filter", "eager_global_ordinals"];
    private static readonly HashSet<string> Number = [.. Common, "coerce", "doc_values", "ignore_malformed", "index", "null_value", "store", "script", "on_script_error", "time_series_dimension", "time_series_metric", "fields"];
    private static readonly HashSet<string> ScaledFloat = [.. Number, "scaling_factor"];
    private static readonly HashSet<string> Date = [.. Common, "doc_values", "format", "locale", "ignore_malformed", "index", "null_value", "store", "script", "on_script_error", "fields"];
    private static readonly HashSet<string> Boolean = [.. Common, "doc_values", "index", "null_value", "store", "script", "on_script_error", "fields"];
    private static readonly HashSet<string> Object = ["type", "properties", "dynamic", "enabled", "subobjects"];
    private static readonly HashSet<string> Flattened = ["type", "depth_limit", "doc_values", "eager_global_ordinals", "ignore_above", "index", "index_options", "null_value", "similarity", "split_queries_on_whitespace", "time_series_dimensions"];
    private static readonly HashSet<string> Binary = ["type", "doc_values", "store"];

    private static readonly Dictionary<string, HashSet<string>?> MapperParameters = new(StringComparer.Ordinal)
    {
        ["keyword"] = Keyword, ["constant_keyword"] = null, ["wildcard"] = null,
        ["text"] = Text, ["match_only_text"] = null, ["search_as_you_type"] = null,
        ["long"] = Number, ["integer"] = Number, ["short"] = Number, ["byte"] = Number, ["double"] = Number,
        ["float"] = Number, ["half_float"] = Number, ["unsigned_long"] = Number, ["scaled_float"] = ScaledFloat,
        ["date"] = Date, ["date_nanos"] = Date, ["boolean"] = Boolean,
        ["object"] = Object, ["nested"] = null, ["flattened"] = Flattened, ["binary"] = Binary,
        ["ip"] = null, ["geo_point"] = null, ["geo_shape"] = null, ["alias"] = null, ["version"] = null,
        ["dense_vector"] = null, ["sparse_vector"] = null, ["semantic_text"] = null, ["histogram"] = null,
        ["integer_range"] = null, ["long_range"] = null, ["float_range"] = null, ["double_range"] = null, ["date_range"] = null, ["ip_range"] = null,
        ["token_count"] = null, ["counted_keyword"] = null, ["aggregate_metric_double"] = null, ["passthrough"] = null, ["rank_feature"] = null, ["rank_features"] = null,
    };

    private static readonly HashSet<string> PolicyPhases = ["hot", "warm", "cold", "frozen", "delete"];
    private static readonly HashSet<string> PhaseFields = ["min_age", "actions"];
    private static readonly HashSet<string> Actions =
        ["rollover", "set_priority", "shrink", "forcemerge", "readonly", "searchable_snapshot", "downsample", "unfollow", "allocate", "migrate", "freeze", "wait_for_snapshot", "delete"];
    private static readonly HashSet<string> RolloverFields =
        ["max_age", "max_docs", "max_size", "max_primary_shard_size", "max_primary_shard_docs", "min_age", "min_docs", "min_size", "min_primary_shard_size", "min_primary_shard_docs"];

    /// <summary>Checks a composable index template body (<c>PUT _index_template/{name}</c>).</summary>
    public static EsError? IndexTemplate(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object) return Parse("[1:1] [index_template] failed to parse, expected START_OBJECT");
        foreach (var property in body.EnumerateObject())
        {
            if (!TemplateFields.Contains(property.Name)) return Parse($"[1:2] [index_template] unknown field [{property.Name}]");
        }
        if (!body.TryGetProperty("index_patterns", out var patterns)
            || (patterns.ValueKind == JsonValueKind.Array && patterns.GetArrayLength() == 0)
            || patterns.ValueKind is not (JsonValueKind.Array or JsonValueKind.String))
        {
            return new EsError("action_request_validation_exception", "Validation Failed: 1: index patterns are missing;");
        }
        if (body.TryGetProperty("priority", out var priority) && (!priority.TryGetInt64(out var p) || p < 0))
        {
            return new EsError("action_request_validation_exception", "Validation Failed: 1: index template priority must be >= 0;");
        }
        if (body.TryGetProperty("composed_of", out var composed) && composed.ValueKind == JsonValueKind.Array && composed.GetArrayLength() > 0
            && !(body.TryGetProperty("ignore_missing_component_templates", out var ignore) && ignore.ValueKind == JsonValueKind.Array))
        {
            return new EsError("invalid_index_template_exception",
                $"index_template invalid, cause [index template specifies component templates {composed.GetRawText()} that do not exist]");
        }
        if (!body.TryGetProperty("template", out var template)) return null;
        if (template.ValueKind != JsonValueKind.Object) return Parse("[1:2] [template] failed to parse, expected START_OBJECT");
        foreach (var property in template.EnumerateObject())
        {
            if (!TemplateBodyFields.Contains(property.Name)) return Parse($"[1:2] [template] unknown field [{property.Name}]");
        }
        return template.TryGetProperty("mappings", out var mappings) ? Mappings(mappings) : null;
    }

    private static EsError? Mappings(JsonElement mappings)
    {
        if (mappings.ValueKind != JsonValueKind.Object) return Mapper("Failed to parse mapping: mappings must be an object");
        var unsupported = mappings.EnumerateObject().Where(p => !RootMappingFields.Contains(p.Name)).Select(p => $"{p.Name} : {p.Value}").ToList();
        if (unsupported.Count > 0) return Mapper($"Failed to parse mapping: Root mapping definition has unsupported parameters:  [{string.Join(", ", unsupported)}]");
        if (mappings.TryGetProperty("dynamic_templates", out var templates))
        {
            if (templates.ValueKind != JsonValueKind.Array) return Mapper("Failed to parse mapping: Dynamic template syntax error. An array of named objects is expected.");
            foreach (var entry in templates.EnumerateArray())
            {
                if (entry.ValueKind != JsonValueKind.Object || entry.EnumerateObject().Count() != 1)
                {
                    return Mapper("Failed to parse mapping: Dynamic template syntax error. An array of named objects is expected.");
                }
                var template = entry.EnumerateObject().First();
                if (!template.Value.TryGetProperty("mapping", out var mapping) || mapping.ValueKind != JsonValueKind.Object)
                {
                    return Mapper($"Failed to parse mapping: dynamic template [{template.Name}] must have a [mapping] object");
                }
                if (mapping.TryGetProperty("type", out var type) && type.GetString() is { } t && t != "{dynamic_type}" && !MapperParameters.ContainsKey(t))
                {
                    return Mapper($"Failed to parse mapping: dynamic template [{template.Name}] has invalid content: No mapper found for type [{t}]");
                }
            }
        }
        return mappings.TryGetProperty("properties", out var properties) ? Properties(properties, "") : null;
    }

    private static EsError? Properties(JsonElement properties, string prefix)
    {
        if (properties.ValueKind != JsonValueKind.Object) return Mapper($"Failed to parse mapping: Expected map for property [properties] on field [{prefix.TrimEnd('.')}]");
        foreach (var property in properties.EnumerateObject())
        {
            var name = prefix + property.Name;
            var definition = property.Value;
            if (definition.ValueKind != JsonValueKind.Object)
            {
                return Mapper($"Failed to parse mapping: Expected map for property [fields] on field [{name}] but got a class java.lang.String");
            }
            var type = definition.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "object";
            if (!MapperParameters.TryGetValue(type, out var allowed))
            {
                return Mapper($"Failed to parse mapping: No handler for type [{type}] declared on field [{property.Name}]");
            }
            if (allowed is not null)
            {
                foreach (var parameter in definition.EnumerateObject())
                {
                    if (!allowed.Contains(parameter.Name))
                    {
                        return Mapper($"Failed to parse mapping: unknown parameter [{parameter.Name}] on mapper [{name}] of type [{type}]");
                    }
                }
            }
            if (definition.TryGetProperty("properties", out var children))
            {
                var error = Properties(children, name + ".");
                if (error is not null) return error;
            }
        }
        return null;
    }

    /// <summary>Checks an ILM policy body (<c>PUT _ilm/policy/{name}</c>).</summary>
    public static EsError? LifecyclePolicy(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("policy", out var policy) || policy.ValueKind != JsonValueKind.Object)
        {
            return Parse("[1:2] [put_lifecycle_request] policy is required");
        }
        foreach (var property in body.EnumerateObject())
        {
            if (property.Name != "policy") return Parse($"[1:2] [put_lifecycle_request] unknown field [{property.Name}]");
        }
        foreach (var property in policy.EnumerateObject())
        {
            if (property.Name is not ("phases" or "_meta" or "deprecated")) return Parse($"[1:2] [lifecycle_policy] unknown field [{property.Name}]");
        }
        if (!policy.TryGetProperty("phases", out var phases)) return null;
        foreach (var phase in phases.EnumerateObject())
        {
            if (!PolicyPhases.Contains(phase.Name)) return Parse($"[1:2] [lifecycle_policy] phase [{phase.Name}] is not a valid phase; valid phases are [hot, warm, cold, frozen, delete]");
            foreach (var field in phase.Value.EnumerateObject())
            {
                if (!PhaseFields.Contains(field.Name)) return Parse($"[1:2] [phase] unknown field [{field.Name}]");
            }
            if (phase.Value.TryGetProperty("min_age", out var minAge) && !TimeValue().IsMatch(minAge.GetString() ?? ""))
            {
                return Parse($"[1:2] [phase] failed to parse field [min_age]: failed to parse setting [min_age] with value [{minAge}] as a time value");
            }
            if (!phase.Value.TryGetProperty("actions", out var actions)) continue;
            foreach (var action in actions.EnumerateObject())
            {
                if (!Actions.Contains(action.Name)) return Parse($"[1:2] [phase] failed to parse field [actions]: [actions] unknown field [{action.Name}]");
                if (action.Name != "rollover") continue;
                foreach (var condition in action.Value.EnumerateObject())
                {
                    if (!RolloverFields.Contains(condition.Name)) return Parse($"[1:2] [rollover] unknown field [{condition.Name}]");
                    var text = condition.Value.ValueKind == JsonValueKind.String ? condition.Value.GetString() ?? "" : condition.Value.GetRawText();
                    var ok = condition.Name.EndsWith("_age", StringComparison.Ordinal) ? TimeValue().IsMatch(text)
                        : condition.Name.EndsWith("_docs", StringComparison.Ordinal) ? long.TryParse(text, out _)
                        : ByteSize().IsMatch(text);
                    if (!ok) return Parse($"[1:2] [rollover] failed to parse field [{condition.Name}] with value [{text}]");
                }
            }
        }
        return null;
    }

    private static EsError Parse(string reason) => new("x_content_parse_exception", reason);

    private static EsError Mapper(string reason) => new("mapper_parsing_exception", reason);

    [GeneratedRegex(@"^-?\d+(nanos|micros|ms|s|m|h|d)$")]
    private static partial Regex TimeValue();

    [GeneratedRegex(@"^\d+(\.\d+)?(b|kb|mb|gb|tb|pb)$", RegexOptions.IgnoreCase)]
    private static partial Regex ByteSize();
}
