using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Plumbing.Expressions;

namespace Pipeline.Plumbing.Filters;

/// <summary>
/// One event as filter plugins see it: a mutable JSON object with dotted-path access. Only built when
/// a chain is configured, so events that pass through no filter never pay for it.
/// </summary>
public sealed class FilterEvent : IFieldSource
{
    public FilterEvent(JsonObject root) => Root = root;

    public JsonObject Root { get; }

    public static FilterEvent Parse(ReadOnlySpan<byte> utf8)
        => new(JsonNode.Parse(utf8) as JsonObject ?? throw new JsonException("the event is not a JSON object"));

    /// <summary>
    /// The event over an object already parsed (the processors' decoder has parsed every record once): the nodes
    /// are created from it lazily, as <see cref="Parse"/> does after tokenising, so the bytes are not parsed twice.
    /// </summary>
    public static FilterEvent From(JsonElement root)
        => new(JsonObject.Create(root) ?? throw new JsonException("the event is not a JSON object"));

    public byte[] ToUtf8() => JsonSerializer.SerializeToUtf8Bytes(Root, FilterJsonContext.Default.JsonObject);

    public FieldValue Get(FieldPath path)
    {
        var node = Find(path.Segments);
        if (node is null) return Exists(path.Segments) ? FieldValue.Null : FieldValue.Missing;
        // Scalars (what where clauses almost always test) are read in place; only objects and arrays
        // are turned into a JsonElement, which costs a serialize and a parse.
        if (node is JsonValue value)
        {
            switch (value.GetValueKind())
            {
                case JsonValueKind.String: return FieldValue.Of(value.GetValue<string>());
                // A number a plugin set as an int or a decimal is not a double inside its node: read those through an element.
                case JsonValueKind.Number when value.TryGetValue<double>(out var number): return FieldValue.Of(number);
                case JsonValueKind.True: return FieldValue.True;
                case JsonValueKind.False: return FieldValue.False;
                case JsonValueKind.Null: return FieldValue.Null;
            }
        }
        return FieldValue.Of(node.Deserialize(FilterJsonContext.Default.JsonElement));
    }

    /// <summary>The string at <paramref name="path"/>, or null when it is missing or not a string.</summary>
    public string? GetString(string path)
        => Find(Segments(path)) is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    /// <summary>Sets <paramref name="path"/>, creating the objects on the way (<c>labels.team</c>).</summary>
    public void Set(string path, JsonNode? value)
    {
        var segments = Segments(path);
        JsonObject current = Root;
        for (int i = 0; i < segments.Length - 1; i++)
        {
            if (current[segments[i]] is not JsonObject next)
            {
                next = new JsonObject();
                current[segments[i]] = next;
            }
            current = next;
        }
        current[segments[^1]] = value;
    }

    /// <summary>Removes <paramref name="path"/> and returns what was there.</summary>
    public JsonNode? Remove(string path)
    {
        var segments = Segments(path);
        var parent = segments.Length == 1 ? Root : Find(segments, segments.Length - 1) as JsonObject;
        if (parent is null || !parent.TryGetPropertyValue(segments[^1], out var value)) return null;
        parent.Remove(segments[^1]);
        return value;
    }

    private JsonNode? Find(string[] segments) => Find(segments, segments.Length);

    private JsonNode? Find(string[] segments, int count)
    {
        JsonNode? current = Root;
        for (int i = 0; i < count; i++)
        {
            if (current is not JsonObject o || !o.TryGetPropertyValue(segments[i], out current)) return null;
        }
        return current;
    }

    // Paths come from config and are used for every event: each is split once. Bounded, in case a
    // plugin builds paths per event.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string[]> SplitPaths = new(StringComparer.Ordinal);

    private static string[] Segments(string path)
    {
        if (SplitPaths.TryGetValue(path, out var segments)) return segments;
        segments = path.Split('.');
        if (SplitPaths.Count < 4096) SplitPaths.TryAdd(path, segments);
        return segments;
    }

    private bool Exists(string[] segments)
    {
        JsonNode? current = Root;
        for (int i = 0; i < segments.Length; i++)
        {
            if (current is not JsonObject o || !o.TryGetPropertyValue(segments[i], out current)) return false;
        }
        return true;
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonObject))]
[System.Text.Json.Serialization.JsonSerializable(typeof(JsonElement))]
internal sealed partial class FilterJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
