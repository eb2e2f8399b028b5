using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Plumbing.Expressions;

namespace Pipeline.Plumbing.Filters;

/// <summary>
/// One event as filter plugins see it: a mutable JSON object with dotted-path access.
/// <para>
/// Read lazily. The event starts as the parsed bytes (a <see cref="JsonElement"/>) plus the top-level members
/// changed since, so the built-in filters (which read a field and set or remove a few) and <see cref="WriteTo"/>
/// never build a node per member: building the whole <see cref="JsonObject"/> tree and writing it back was most
/// of what a filter chain cost per event (bench/RESULTS.md). <see cref="Root"/> still gives the full tree, built
/// on first use with the changes applied; from then on the tree is the event.
/// </para>
/// </summary>
public sealed class FilterEvent : IFieldSource
{
    private readonly JsonElement _source;
    private JsonObject? _root;
    // Top-level members set or removed, in the order a JsonObject would hold them: the source's own members stay
    // where they were when replaced; a new member, or one removed and set again, goes after them in this order.
    private OrderedDictionary<string, Change>? _changes;

    private sealed class Change
    {
        public JsonNode? Value;
        public bool Removed;
        public bool InSource;
        public bool Moved;
    }

    public FilterEvent(JsonObject root) => _root = root;

    private FilterEvent(JsonElement source) => _source = source;

    /// <summary>The whole event as a mutable tree. Built on first use (plugins that work on nodes pay for it; the built-ins do not).</summary>
    public JsonObject Root => _root ??= Materialize();

    public static FilterEvent Parse(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8);
        var source = JsonElement.ParseValue(ref reader);
        if (reader.Read()) throw new JsonException("the event has more than one JSON value");
        return From(source);
    }

    /// <summary>
    /// The event over an object already parsed (the processors' decoder has parsed every record once), so the
    /// bytes are not parsed twice.
    /// </summary>
    public static FilterEvent From(JsonElement root)
        => root.ValueKind == JsonValueKind.Object ? new FilterEvent(root) : throw new JsonException("the event is not a JSON object");

    public byte[] ToUtf8()
    {
        if (_root is not null) return JsonSerializer.SerializeToUtf8Bytes(_root, FilterJsonContext.Default.JsonObject);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer)) WriteTo(writer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes the event as it is now: the source's members as they were read, except those changed.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        if (_root is not null)
        {
            _root.WriteTo(writer);
            return;
        }
        if (_changes is null)
        {
            _source.WriteTo(writer);
            return;
        }
        writer.WriteStartObject();
        foreach (var member in _source.EnumerateObject())
        {
            var (key, change) = ChangeOf(member);
            if (change is null) member.WriteTo(writer);
            else if (!change.Removed && !change.Moved) WriteMember(writer, key!, change.Value);
        }
        foreach (var (key, change) in _changes)
        {
            if (change.Removed || (change.InSource && !change.Moved)) continue;
            WriteMember(writer, key, change.Value);
        }
        writer.WriteEndObject();
    }

    public FieldValue Get(FieldPath path)
    {
        var segments = path.Segments;
        if (_root is null && !TopChanged(segments[0], out _)) return Walk(segments, segments.Length, out var element) ? FieldValue.Of(element) : FieldValue.Missing;
        var node = Find(segments);
        if (node is null) return Exists(segments) ? FieldValue.Null : FieldValue.Missing;
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
    {
        var segments = Segments(path);
        if (_root is null && !TopChanged(segments[0], out _))
            return Walk(segments, segments.Length, out var element) && element.ValueKind == JsonValueKind.String ? element.GetString() : null;
        return Find(segments) is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
    }

    /// <summary>Sets <paramref name="path"/>, creating the objects on the way (<c>labels.team</c>).</summary>
    public void Set(string path, JsonNode? value)
    {
        var segments = Segments(path);
        if (_root is null && segments.Length == 1)
        {
            SetTop(segments[0], value);
            return;
        }
        JsonObject current = _root ?? TopObjectForWrite(segments[0]);
        for (int i = _root is null ? 1 : 0; i < segments.Length - 1; i++)
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
        if (_root is null)
        {
            if (segments.Length == 1) return RemoveTop(segments[0]);
            bool changed = TopChanged(segments[0], out var change);
            // Nothing to remove: leave the source's member as it is rather than copying it into a change.
            if (changed ? change!.Removed || change.Value is not JsonObject : !Walk(segments, segments.Length, out _)) return null;
            if (!changed) TopObjectForWrite(segments[0]);
        }
        var parent = segments.Length == 1 ? Root : Find(segments, segments.Length - 1) as JsonObject;
        if (parent is null || !parent.TryGetPropertyValue(segments[^1], out var value)) return null;
        parent.Remove(segments[^1]);
        return value;
    }

    private JsonObject Materialize()
    {
        var root = JsonObject.Create(_source)!;
        if (_changes is null) return root;
        foreach (var (key, change) in _changes)
        {
            if (change.Removed || change.Moved) root.Remove(key);
            if (!change.Removed) root[key] = change.Value;
        }
        _changes = null;
        return root;
    }

    private bool TopChanged(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Change? change)
    {
        change = null;
        return _changes is not null && _changes.TryGetValue(key, out change);
    }

    /// <summary>The change of a source member, compared by name without making a string of it.</summary>
    private (string? Key, Change? Change) ChangeOf(JsonProperty member)
    {
        foreach (var (key, change) in _changes!)
        {
            if (change.InSource && member.NameEquals(key)) return (key, change);
        }
        return (null, null);
    }

    private void SetTop(string key, JsonNode? value)
    {
        // The same rule as JsonObject: a node belongs to one parent.
        if (value?.Parent is not null) throw new InvalidOperationException("The node already has a parent.");
        _changes ??= [];
        if (_changes.TryGetValue(key, out var change))
        {
            if (!change.Removed)
            {
                change.Value = value;
                return;
            }
            // Removed and set again: like a JsonObject, it now comes after the other members.
            _changes.Remove(key);
            _changes.Add(key, new Change { Value = value, InSource = change.InSource, Moved = change.InSource });
            return;
        }
        _changes.Add(key, new Change { Value = value, InSource = _source.TryGetProperty(key, out _) });
    }

    private JsonNode? RemoveTop(string key)
    {
        if (TopChanged(key, out var change))
        {
            if (change.Removed) return null;
            var value = change.Value;
            if (change.InSource) (change.Removed, change.Moved, change.Value) = (true, false, null);
            else _changes!.Remove(key);
            return value;
        }
        if (!_source.TryGetProperty(key, out var element)) return null;
        _changes ??= [];
        _changes.Add(key, new Change { Removed = true, InSource = true });
        return NodeOf(element);
    }

    /// <summary>The top-level object at <paramref name="key"/>, as a change that can be written into.</summary>
    private JsonObject TopObjectForWrite(string key)
    {
        if (TopChanged(key, out var change) && !change.Removed && change.Value is JsonObject changed) return changed;
        var o = change is null && _source.TryGetProperty(key, out var element) && element.ValueKind == JsonValueKind.Object
            ? JsonObject.Create(element)!
            : new JsonObject();
        SetTop(key, o);
        return o;
    }

    private static JsonNode? NodeOf(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => JsonObject.Create(element),
        JsonValueKind.Array => JsonArray.Create(element),
        JsonValueKind.Null => null,
        _ => JsonValue.Create(element),
    };

    private static void WriteMember(Utf8JsonWriter writer, string key, JsonNode? value)
    {
        writer.WritePropertyName(key);
        if (value is null) writer.WriteNullValue();
        else value.WriteTo(writer);
    }

    /// <summary>Follows <paramref name="count"/> segments through the source as it was read.</summary>
    private bool Walk(string[] segments, int count, out JsonElement element)
    {
        element = _source;
        for (int i = 0; i < count; i++)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(segments[i], out element)) return false;
        }
        return true;
    }

    private JsonNode? Find(string[] segments) => Find(segments, segments.Length);

    private JsonNode? Find(string[] segments, int count)
    {
        JsonNode? current;
        int i = 0;
        if (_root is not null || count == 0) current = Root;
        else if (TopChanged(segments[0], out var change))
        {
            if (change.Removed) return null;
            current = change.Value;
            i = 1;
        }
        else return Walk(segments, count, out var element) ? NodeOf(element) : null; // a copy: for reading only
        for (; i < count; i++)
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
        if (_root is null)
        {
            if (!TopChanged(segments[0], out var change)) return Walk(segments, segments.Length, out _);
            if (change.Removed) return false;
            JsonNode? node = change.Value;
            for (int i = 1; i < segments.Length; i++)
            {
                if (node is not JsonObject o || !o.TryGetPropertyValue(segments[i], out node)) return false;
            }
            return true;
        }
        JsonNode? current = _root;
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
