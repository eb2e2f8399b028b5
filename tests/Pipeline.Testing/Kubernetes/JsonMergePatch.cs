using System.Text.Json.Nodes;

namespace Pipeline.Testing.Kubernetes;

/// <summary>
/// The two PATCH flavours the Kubernetes API applies for our calls: JSON merge patch (RFC 7386) and the part of
/// strategic merge patch we use, where lists with a merge key (<c>conditions</c> by <c>type</c>) are merged
/// item by item instead of replaced.
/// </summary>
public static class JsonMergePatch
{
    private static readonly Dictionary<string, string> MergeKeys = new(StringComparer.Ordinal) { ["conditions"] = "type" };

    public static JsonNode? Apply(JsonNode? target, JsonNode? patch, bool strategic)
    {
        if (patch is not JsonObject patchObject) return patch?.DeepClone();
        var result = target as JsonObject ?? new JsonObject();
        foreach (var (key, value) in patchObject)
        {
            if (value is null)
            {
                result.Remove(key);
                continue;
            }
            if (strategic && value is JsonArray items && MergeKeys.TryGetValue(key, out var mergeKey) && result[key] is JsonArray existing)
            {
                foreach (var item in items)
                {
                    var id = item?[mergeKey]?.GetValue<string>();
                    var match = existing.FirstOrDefault(e => e?[mergeKey]?.GetValue<string>() == id);
                    if (match is null) existing.Add(item?.DeepClone());
                    else Apply(match, item, strategic);
                }
                continue;
            }
            var current = result[key];
            result[key] = value is JsonObject ? Apply(current?.DeepClone(), value, strategic) : value.DeepClone();
        }
        return result;
    }
}
