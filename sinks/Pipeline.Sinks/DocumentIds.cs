using System.Text.Json;
using Pipeline.Schemas.Events;

namespace Pipeline.Sinks;

/// <summary>Finds <c>event.id</c> in a document without deserializing it.</summary>
public static class DocumentIds
{
    /// <summary>The event's own stable id, or a hash of its bytes when it has none (still stable across replays).</summary>
    public static string For(byte[] document)
    {
        try
        {
            var reader = new Utf8JsonReader(document);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return EventIds.FromContent(document);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isEvent = reader.ValueTextEquals("event"u8);
                reader.Read();
                if (isEvent && reader.TokenType == JsonTokenType.StartObject)
                {
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        bool isId = reader.ValueTextEquals("id"u8);
                        reader.Read();
                        if (isId && reader.TokenType == JsonTokenType.String) return reader.GetString()!;
                        reader.TrySkip();
                    }
                    break;
                }
                reader.TrySkip();
            }
        }
        catch (JsonException)
        {
            // Not JSON: the backend will reject it and it will be dead-lettered; it still needs an id.
        }
        return EventIds.FromContent(document);
    }
}
