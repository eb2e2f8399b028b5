using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Pipeline.Testing.Elasticsearch;

/// <summary>
/// The mapping of one index or data stream: the fields a template declared plus the ones dynamic mapping added.
/// It rejects documents the way Elasticsearch's document parser does (a string in a <c>long</c>, a value where an
/// object is mapped, an unknown field under <c>dynamic: strict</c>, too many fields), which is what turns a template
/// mistake into a dead-lettered record. Not thread-safe: the cluster state's lock guards it.
/// </summary>
internal sealed partial class FieldMappings
{
    private const string ObjectType = "object";

    private readonly Dictionary<string, string> _types = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _dynamicByObject = new(StringComparer.Ordinal) { [""] = "true" };
    private readonly HashSet<string> _ignoreMalformed = new(StringComparer.Ordinal);
    private readonly HashSet<string> _withFormat = new(StringComparer.Ordinal);
    private readonly List<DynamicTemplate> _dynamicTemplates = [];
    private bool _dateDetection = true;
    private bool _numericDetection;
    private bool _ignoreMalformedByDefault;
    private int _fieldLimit = 1000;
    private bool _ignoreDynamicBeyondLimit;

    public int FieldCount => _types.Count;

    public string? TypeOf(string path) => _types.GetValueOrDefault(path);

    public static FieldMappings Create(JsonElement? mappings, IReadOnlyDictionary<string, string> settings, bool isDataStream)
    {
        var result = new FieldMappings();
        if (settings.TryGetValue("index.mapping.total_fields.limit", out var limit) && int.TryParse(limit, CultureInfo.InvariantCulture, out var n)) result._fieldLimit = n;
        if (settings.TryGetValue("index.mapping.total_fields.ignore_dynamic_beyond_limit", out var ignore)) result._ignoreDynamicBeyondLimit = ignore == "true";
        if (settings.TryGetValue("index.mapping.ignore_malformed", out var malformed)) result._ignoreMalformedByDefault = malformed == "true";
        if (mappings is { ValueKind: JsonValueKind.Object } root)
        {
            if (root.TryGetProperty("dynamic", out var dynamic)) result._dynamicByObject[""] = DynamicValue(dynamic);
            if (root.TryGetProperty("date_detection", out var dd)) result._dateDetection = dd.ValueKind != JsonValueKind.False && !(dd.ValueKind == JsonValueKind.String && dd.GetString() == "false");
            if (root.TryGetProperty("numeric_detection", out var nd)) result._numericDetection = nd.ValueKind == JsonValueKind.True;
            if (root.TryGetProperty("dynamic_templates", out var templates) && templates.ValueKind == JsonValueKind.Array)
            {
                foreach (var entry in templates.EnumerateArray())
                {
                    foreach (var named in entry.EnumerateObject()) result._dynamicTemplates.Add(DynamicTemplate.Parse(named.Value));
                }
            }
            if (root.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object) result.Load(properties, "");
        }
        if (isDataStream && !result._types.ContainsKey("@timestamp")) result._types["@timestamp"] = "date";
        return result;
    }

    private void Load(JsonElement properties, string prefix)
    {
        foreach (var property in properties.EnumerateObject())
        {
            var path = EnsureParents(prefix + property.Name);
            var definition = property.Value;
            var type = definition.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : ObjectType;
            _types[path] = type;
            if (definition.TryGetProperty("dynamic", out var dynamic)) _dynamicByObject[path] = DynamicValue(dynamic);
            if (definition.TryGetProperty("ignore_malformed", out var im) && im.ValueKind == JsonValueKind.True) _ignoreMalformed.Add(path);
            if (definition.TryGetProperty("format", out _)) _withFormat.Add(path);
            if (definition.TryGetProperty("properties", out var children) && children.ValueKind == JsonValueKind.Object) Load(children, path + ".");
            if (definition.TryGetProperty("fields", out var multi) && multi.ValueKind == JsonValueKind.Object)
            {
                foreach (var sub in multi.EnumerateObject())
                {
                    _types[path + "." + sub.Name] = sub.Value.TryGetProperty("type", out var st) ? st.GetString() ?? "keyword" : "keyword";
                }
            }
        }
    }

    private string EnsureParents(string path)
    {
        for (var dot = path.IndexOf('.'); dot > 0; dot = path.IndexOf('.', dot + 1))
        {
            _types.TryAdd(path[..dot], ObjectType);
        }
        return path;
    }

    private static string DynamicValue(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.String => value.GetString() ?? "true",
        _ => "true",
    };

    /// <summary>Checks a source document; on success returns the fields dynamic mapping would add (apply them with <see cref="Apply"/>).</summary>
    public EsError? Check(JsonElement source, string id, out Dictionary<string, string> newFields)
    {
        var pending = new Dictionary<string, string>(StringComparer.Ordinal);
        newFields = pending;
        var error = new Walk(this, pending, id).Object(source, "");
        if (error is not null) return error;
        if (_types.Count + pending.Count > _fieldLimit && pending.Count > 0)
        {
            if (!_ignoreDynamicBeyondLimit)
            {
                return new EsError("document_parsing_exception",
                    $"[1:2] failed to parse: Limit of total fields [{_fieldLimit}] has been exceeded while adding new fields [{pending.Count}]",
                    CausedBy: new EsError("illegal_argument_exception", $"Limit of total fields [{_fieldLimit}] has been exceeded while adding new fields [{pending.Count}]"));
            }
            var room = Math.Max(0, _fieldLimit - _types.Count);
            newFields = pending.Take(room).ToDictionary(StringComparer.Ordinal);
        }
        return null;
    }

    public void Apply(Dictionary<string, string> newFields)
    {
        foreach (var (path, type) in newFields) _types[path] = type;
    }

    private string DynamicFor(string objectPath)
    {
        var path = objectPath;
        while (true)
        {
            if (_dynamicByObject.TryGetValue(path, out var value)) return value;
            var dot = path.LastIndexOf('.');
            path = dot < 0 ? "" : path[..dot];
        }
    }

    private static string ParentOf(string path)
    {
        var dot = path.LastIndexOf('.');
        return dot < 0 ? "" : path[..dot];
    }

    /// <summary>One walk over one document's fields, collecting the dynamic mappings it would add.</summary>
    private sealed class Walk(FieldMappings mappings, Dictionary<string, string> pending, string id)
    {
        private string? TypeOf(string path) => pending.TryGetValue(path, out var t) ? t : mappings.TypeOf(path);

        public EsError? Object(JsonElement obj, string prefix)
        {
            foreach (var property in obj.EnumerateObject())
            {
                if (string.IsNullOrWhiteSpace(property.Name) || property.Name.Split('.').Any(string.IsNullOrWhiteSpace))
                {
                    return new EsError("document_parsing_exception", $"[1:2] Field name cannot contain only whitespace: ['{property.Name}']");
                }
                var segments = property.Name.Split('.');
                var path = prefix;
                var descend = true;
                for (var i = 0; i < segments.Length - 1 && descend; i++)
                {
                    path = Join(path, segments[i]);
                    var error = EnsureObject(path, Join(prefix, property.Name), out descend);
                    if (error is not null) return error;
                }
                if (!descend) continue;
                var valueError = Value(Join(path, segments[^1]), property.Value);
                if (valueError is not null) return valueError;
            }
            return null;
        }

        private EsError? EnsureObject(string path, string fullName, out bool descend)
        {
            descend = true;
            var type = TypeOf(path);
            if (type is null)
            {
                var dynamic = mappings.DynamicFor(ParentOf(path));
                if (dynamic == "strict") return Strict(path);
                if (dynamic == "false") { descend = false; return null; }
                pending[path] = ObjectType;
                return null;
            }
            if (type is ObjectType or "nested") return null;
            if (type == "flattened") { descend = false; return null; }
            return new EsError("document_parsing_exception",
                $"[1:2] Could not dynamically add mapping for field [{fullName}]. Existing mapping for [{path}] must be of type object but found [{type}].");
        }

        private EsError? Value(string path, JsonElement value)
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.Null:
                case JsonValueKind.Undefined:
                    return null;
                case JsonValueKind.Array:
                    foreach (var item in value.EnumerateArray())
                    {
                        var error = Value(path, item);
                        if (error is not null) return error;
                    }
                    return null;
                case JsonValueKind.Object:
                    return ObjectValue(path, value);
                default:
                    return Scalar(path, value);
            }
        }

        private EsError? ObjectValue(string path, JsonElement value)
        {
            var type = TypeOf(path);
            if (type is null)
            {
                var dynamic = mappings.DynamicFor(ParentOf(path));
                if (dynamic == "strict") return Strict(path);
                if (dynamic == "false") return null;
                var templated = mappings.MatchDynamicTemplate(path, "object");
                if (templated is not null && templated != ObjectType)
                {
                    pending[path] = templated;
                    return templated == "flattened" ? null : Malformed(path, templated, value);
                }
                pending[path] = ObjectType;
                return Object(value, path);
            }
            if (type is ObjectType or "nested") return Object(value, path);
            if (type == "flattened") return null;
            return Malformed(path, type, value, new EsError("illegal_state_exception", "Can't get text on a START_OBJECT at 1:2"));
        }

        private EsError? Scalar(string path, JsonElement value)
        {
            var type = TypeOf(path);
            if (type is null)
            {
                var dynamic = mappings.DynamicFor(ParentOf(path));
                if (dynamic == "strict") return Strict(path);
                if (dynamic is "false" or "runtime") return null;
                var detected = mappings.Detect(value);
                var mapped = mappings.MatchDynamicTemplate(path, detected);
                if (mapped is null)
                {
                    mapped = detected switch { "string" => "text", "double" => "float", _ => detected };
                    if (mapped == "text") pending[path + ".keyword"] = "keyword";
                }
                pending[path] = mapped;
                return Accepts(mapped, value, hasFormat: false) ? null : Malformed(path, mapped, value);
            }
            if (type is ObjectType or "nested")
            {
                return new EsError("document_parsing_exception",
                    $"[1:2] object mapping for [{path}] tried to parse field [{path}] as object, but found a concrete value");
            }
            if (mappings._ignoreMalformed.Contains(path) || mappings._ignoreMalformedByDefault) return null;
            return Accepts(type, value, mappings._withFormat.Contains(path)) ? null : Malformed(path, type, value);
        }

        private EsError Malformed(string path, string type, JsonElement value, EsError? cause = null) =>
            new("document_parsing_exception",
                $"[1:2] failed to parse field [{path}] of type [{type}] in document with id '{id}'. Preview of field's value: '{JsonPaths.Preview(value)}'",
                CausedBy: cause ?? new EsError("illegal_argument_exception", $"failed to parse value [{JsonPaths.Preview(value)}] as [{type}]"));

        private static EsError Strict(string path)
        {
            var parent = ParentOf(path);
            var leaf = path[(parent.Length == 0 ? 0 : parent.Length + 1)..];
            return new EsError("strict_dynamic_mapping_exception",
                $"[1:2] mapping set to strict, dynamic introduction of [{leaf}] within [{(parent.Length == 0 ? "_doc" : parent)}] is not allowed");
        }

        private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;
    }

    private string Detect(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.True:
            case JsonValueKind.False:
                return "boolean";
            case JsonValueKind.Number:
                return value.TryGetInt64(out _) ? "long" : "double";
            default:
                var text = value.GetString() ?? "";
                if (_dateDetection && (StrictDateOptionalTime().IsMatch(text) || SlashDate().IsMatch(text))) return "date";
                if (_numericDetection)
                {
                    if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)) return "long";
                    if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) return "double";
                }
                return "string";
        }
    }

    private string? MatchDynamicTemplate(string path, string detected)
    {
        var leaf = path[(path.LastIndexOf('.') + 1)..];
        foreach (var template in _dynamicTemplates)
        {
            if (!template.Matches(path, leaf, detected)) continue;
            var type = template.MappingType;
            if (type is null || type == "{dynamic_type}")
            {
                type = detected switch { "string" => "text", "double" => "float", _ => detected };
            }
            return type;
        }
        return null;
    }

    private static bool Accepts(string type, JsonElement value, bool hasFormat)
    {
        var kind = value.ValueKind;
        switch (type)
        {
            case "long" or "integer" or "short" or "byte" or "unsigned_long"
                or "double" or "float" or "half_float" or "scaled_float":
                return kind == JsonValueKind.Number
                    || (kind == JsonValueKind.String && double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out _));
            case "date" or "date_nanos":
                if (kind == JsonValueKind.Number) return true;
                if (kind != JsonValueKind.String) return false;
                var text = value.GetString() ?? "";
                return hasFormat
                    ? text.Length > 0
                    : StrictDateOptionalTime().IsMatch(text) || long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out _);
            case "boolean":
                return kind is JsonValueKind.True or JsonValueKind.False
                    || (kind == JsonValueKind.String && value.GetString() is "true" or "false" or "");
            case "ip":
                return kind == JsonValueKind.String && IPAddress.TryParse(value.GetString(), out _);
            case "binary":
                if (kind != JsonValueKind.String) return false;
                var base64 = value.GetString() ?? "";
                return Convert.TryFromBase64String(base64, new byte[base64.Length], out _);
            default:
                return true;
        }
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}(T\d{2}(:\d{2}(:\d{2}([.,]\d{1,9})?)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex StrictDateOptionalTime();

    [GeneratedRegex(@"^\d{4}/\d{2}/\d{2}( \d{2}:\d{2}:\d{2})?( ?[+-]\d{4}| ?Z)?$", RegexOptions.CultureInvariant)]
    private static partial Regex SlashDate();

    /// <summary>One entry of <c>dynamic_templates</c>: which unmapped fields it catches and the type it gives them.</summary>
    private sealed record DynamicTemplate(
        IReadOnlyList<string> Match, IReadOnlyList<string> Unmatch, IReadOnlyList<string> PathMatch, IReadOnlyList<string> PathUnmatch,
        IReadOnlyList<string> MatchMappingType, string? MappingType)
    {
        public static DynamicTemplate Parse(JsonElement body) => new(
            List(body, "match"), List(body, "unmatch"), List(body, "path_match"), List(body, "path_unmatch"),
            List(body, "match_mapping_type"),
            body.TryGetProperty("mapping", out var mapping) && mapping.TryGetProperty("type", out var type) ? type.GetString() : null);

        public bool Matches(string path, string leaf, string detected)
        {
            if (MatchMappingType.Count > 0 && !MatchMappingType.Any(t => t == "*" || t == detected)) return false;
            if (Match.Count > 0 && !Match.Any(p => JsonPaths.WildcardMatch(p, leaf))) return false;
            if (Unmatch.Any(p => JsonPaths.WildcardMatch(p, leaf))) return false;
            if (PathMatch.Count > 0 && !PathMatch.Any(p => JsonPaths.WildcardMatch(p, path))) return false;
            if (PathUnmatch.Any(p => JsonPaths.WildcardMatch(p, path))) return false;
            return true;
        }

        private static List<string> List(JsonElement body, string name)
        {
            if (!body.TryGetProperty(name, out var value)) return [];
            return value.ValueKind == JsonValueKind.Array
                ? [.. value.EnumerateArray().Select(v => v.GetString() ?? "")]
                : [value.GetString() ?? ""];
        }
    }
}
