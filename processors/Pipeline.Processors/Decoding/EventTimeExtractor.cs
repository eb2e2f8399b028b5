using System.Text.Json;
using Confluent.Kafka;
using Streamiz.Kafka.Net.Processors;

namespace Pipeline.Processors.Decoding;

/// <summary>
/// Windows use event time: the <c>@timestamp</c> in the document, not when Kafka received it. A record
/// without a readable one falls back to the Kafka timestamp (the decoder dead-letters it anyway).
/// </summary>
public sealed class EventTimeExtractor : ITimestampExtractor
{
    public long Extract(ConsumeResult<object, object> record, long partitionTime)
    {
        if (record.Message.Value is byte[] bytes && TryRead(bytes, out var ms)) return ms;
        return record.Message.Timestamp.UnixTimestampMs;
    }

    /// <summary>Reads the top-level <c>@timestamp</c> without parsing the rest of the document.</summary>
    public static bool TryRead(ReadOnlySpan<byte> json, out long unixMs)
    {
        unixMs = 0;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isTimestamp = reader.ValueTextEquals("@timestamp"u8);
                reader.Read();
                if (isTimestamp)
                {
                    if (reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var ts))
                    {
                        unixMs = ts.ToUnixTimeMilliseconds();
                        return true;
                    }
                    return false;
                }
                reader.TrySkip();
            }
        }
        catch (JsonException)
        {
            // Not JSON: no event time.
        }
        return false;
    }
}
