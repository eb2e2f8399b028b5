using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Pipeline.Schemas.Events;

namespace Pipeline.Schemas.Serialization;

/// <summary>The one way contracts become bytes on a topic and back.</summary>
public static class EventSerializer
{
    public static byte[] Serialize(AlertEvent value) => JsonSerializer.SerializeToUtf8Bytes(value, EventJsonContext.Default.AlertEvent);
    public static byte[] Serialize(DeadLetterEvent value) => JsonSerializer.SerializeToUtf8Bytes(value, EventJsonContext.Default.DeadLetterEvent);
    public static byte[] Serialize(LogEvent value) => JsonSerializer.SerializeToUtf8Bytes(value, EventJsonContext.Default.LogEvent);
    public static byte[] Serialize(ProcessEvent value) => JsonSerializer.SerializeToUtf8Bytes(value, EventJsonContext.Default.ProcessEvent);
    public static byte[] Serialize(ProbeEvent value) => JsonSerializer.SerializeToUtf8Bytes(value, EventJsonContext.Default.ProbeEvent);

    /// <summary>Reads a contract; throws <see cref="JsonException"/> naming the field when the bytes don't fit it.</summary>
    public static T Deserialize<T>(ReadOnlySpan<byte> utf8, JsonTypeInfo<T> typeInfo)
        => JsonSerializer.Deserialize(utf8, typeInfo) ?? throw new JsonException($"{typeof(T).Name}: the document is null");

    /// <summary>The JSON Schema text for a topic, as shipped in <c>schemas/json/</c>.</summary>
    public static string SchemaText(string schemaFile)
    {
        using var stream = typeof(EventSerializer).Assembly.GetManifestResourceStream("schemas/" + schemaFile)
            ?? throw new FileNotFoundException($"no embedded schema named {schemaFile}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
