using System.Text.Json;

namespace Pipeline.Plumbing.Expressions;

/// <summary>Anything an expression can be evaluated against: a JSON event, a process row, ...</summary>
public interface IFieldSource
{
    FieldValue Get(FieldPath path);
}

/// <summary>Fields of a JSON document, nested (<c>{"host":{"name":..}}</c>) or with dotted keys (<c>{"host.name":..}</c>).</summary>
public readonly struct JsonFieldSource(JsonElement root) : IFieldSource
{
    public JsonElement Root { get; } = root;

    public FieldValue Get(FieldPath path) => Lookup(Root, path.Segments, 0);

    private static FieldValue Lookup(JsonElement element, string[] segments, int index)
    {
        if (element.ValueKind != JsonValueKind.Object) return FieldValue.Missing;
        if (element.TryGetProperty(segments[index], out var child))
        {
            if (index == segments.Length - 1) return FieldValue.Of(child);
            var nested = Lookup(child, segments, index + 1);
            if (nested.Kind != FieldKind.Missing) return nested;
        }
        // ECS allows dotted keys at any level ("log.file.path" written flat); try the joined remainder.
        if (index < segments.Length - 1 && element.TryGetProperty(string.Join('.', segments, index, segments.Length - index), out var flat))
        {
            return FieldValue.Of(flat);
        }
        return FieldValue.Missing;
    }
}
