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

    /// <summary>
    /// Null when <paramref name="key"/> is what the topic catalog says the record key holds (host.name for every
    /// source); otherwise the error naming both. The processors aggregate per record key wherever a rule groups by
    /// that same field, so a record keyed otherwise would be counted for the wrong group, or on another partition.
    /// </summary>
    public static string? KeyMismatch(string topic, string? key, DecodedEvent decoded)
    {
        var spec = TopicCatalog.ByName(topic);
        if (spec is null || decoded.IsDeadLetter) return null;
        var expected = Lookup(decoded.Root, spec.Key);
        if (expected.ValueKind == JsonValueKind.String && expected.ValueEquals(key)) return null;
        var shown = expected.ValueKind == JsonValueKind.String ? expected.GetString() : expected.GetRawText();
        return key is null
            ? $"record has no key; {topic} is keyed by {spec.Key} ('{shown}'), so one host's events stay in one partition (kcat: -k '{shown}')"
            : $"record key '{key}' is not the event's {spec.Key} '{shown}'; {topic} is keyed by {spec.Key}, so one host's events stay in one partition";
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

    /// <summary>Runs for several paths of every record: walks the path's segments as spans, without splitting it into new strings.</summary>
    private static JsonElement Lookup(JsonElement root, string path)
    {
        var current = root;
        ReadOnlySpan<char> rest = path;
        foreach (var range in rest.Split('.'))
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(rest[range], out current)) return default;
        }
        return current;
    }
}
