using System.Text.Json;
using Pipeline.Schemas.Topics;

namespace Pipeline.Processors.Decoding;

/// <summary>
/// Parses a source record and checks the fields every stage relies on. A record that fails is not an
/// exception: it becomes a dead letter that names the field and value at fault.
/// </summary>
public static class EventDecoder
{
    private static readonly string[] Common = ["@timestamp", "event.kind", "event.dataset", "event.id", "host.name"];

    private static readonly Dictionary<string, string[]> PerTopic = new(StringComparer.Ordinal)
    {
        [TopicCatalog.Logs.Name] = ["message", "log.file.path", "log.offset"],
        [TopicCatalog.Process.Name] = ["process.pid", "process.name"],
        [TopicCatalog.Probes.Name] = ["probe.name", "probe.type", "probe.status"],
    };

    public static DecodedEvent Decode(string topic, byte[]? value)
    {
        if (value is null || value.Length == 0) return DecodedEvent.Invalid(value ?? [], "empty_record", "record has no value");
        JsonElement root;
        try
        {
            // Clone-free parse: the element owns its memory, so it can outlive this call.
            var reader = new Utf8JsonReader(value);
            root = JsonElement.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            return DecodedEvent.Invalid(value, "invalid_json", $"not valid JSON at byte {e.BytePositionInLine}: {e.Message}");
        }
        if (root.ValueKind != JsonValueKind.Object)
            return DecodedEvent.Invalid(value, "not_an_object", $"the document is a JSON {root.ValueKind}, not an object");
        var missing = FirstMissing(root, Common) ?? (PerTopic.TryGetValue(topic, out var fields) ? FirstMissing(root, fields) : null);
        if (missing is not null) return DecodedEvent.Invalid(value, "missing_field", $"required field '{missing}' is missing or null");
        var ts = Lookup(root, "@timestamp");
        if (ts.ValueKind != JsonValueKind.String || !ts.TryGetDateTimeOffset(out _))
            return DecodedEvent.Invalid(value, "invalid_field", $"field '@timestamp' = {ts.GetRawText()} is not an RFC 3339 time");
        return DecodedEvent.Valid(root, value);
    }

    private static string? FirstMissing(JsonElement root, string[] paths)
    {
        foreach (var path in paths)
        {
            var v = Lookup(root, path);
            if (v.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) return path;
        }
        return null;
    }

    private static JsonElement Lookup(JsonElement root, string path)
    {
        var current = root;
        foreach (var segment in path.Split('.'))
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(segment, out current)) return default;
        }
        return current;
    }
}
