using System.Buffers;
using System.Text;
using System.Text.Json;
using Pipeline.Schemas.Events;

namespace Pipeline.Producers.Logs;

/// <summary>
/// Writes a <see cref="LogEvent"/> document straight from the file's bytes. This is the hottest path
/// in the agent, so it uses Utf8JsonWriter directly instead of the source-generated serializer, which
/// would need every line turned into a .NET string and back (UTF-8 -> UTF-16 -> UTF-8). Tests check the
/// output deserializes to <see cref="LogEvent"/> and satisfies <c>ops.logs.v1.schema.json</c>.
/// One instance per tailer thread; not thread-safe.
/// </summary>
public sealed class LogEventEncoder
{
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Utf8JsonWriter _writer;
    private readonly string _host;
    private readonly JsonEncodedText _hostEncoded;
    private readonly IReadOnlyDictionary<string, string> _labels;
    private readonly IReadOnlyList<string> _tags;
    private readonly bool _json;

    /// <param name="json">Parse each line as a JSON object into the event's <c>json</c> field (<c>json = true</c>).</param>
    public LogEventEncoder(string host, IReadOnlyDictionary<string, string> labels, IReadOnlyList<string> tags, bool json = false)
    {
        _host = host;
        _json = json;
        _hostEncoded = JsonEncodedText.Encode(host);
        _labels = labels;
        _tags = tags;
        // Skip validation: the shape is fixed by this class, and validation costs on every property.
        _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });
    }

    /// <summary>Encodes one line. <paramref name="line"/> must be valid UTF-8 (see <see cref="Sanitize"/>).</summary>
    public byte[] Encode(ReadOnlySpan<byte> line, long offset, string path, string fileIdentity, DateTimeOffset timestamp, LineFlags flags)
    {
        bool parsed = false;
        if (_json)
        {
            parsed = IsJsonObject(line);
            if (!parsed) flags |= LineFlags.JsonError;
        }
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        var w = _writer;
        w.WriteStartObject();
        w.WriteString("@timestamp"u8, timestamp);
        w.WriteStartObject("event"u8);
        w.WriteString("kind"u8, "event"u8);
        w.WriteString("dataset"u8, "ops.logs"u8);
        Span<byte> id = stackalloc byte[32];
        EventIds.WriteLogLineId(id, _host, fileIdentity, offset, line);
        w.WriteString("id"u8, id);
        w.WriteEndObject();
        w.WriteStartObject("host"u8);
        w.WriteString("name"u8, _hostEncoded);
        w.WriteEndObject();
        w.WriteStartObject("log"u8);
        w.WriteStartObject("file"u8);
        w.WriteString("path"u8, path);
        w.WriteEndObject();
        w.WriteNumber("offset"u8, offset);
        var level = LevelSniffer.Sniff(line);
        if (level is not null) w.WriteString("level"u8, level);
        if (flags != LineFlags.None)
        {
            w.WriteStartArray("flags"u8);
            if ((flags & LineFlags.Truncated) != 0) w.WriteStringValue(LogFlags.Truncated);
            if ((flags & LineFlags.InvalidUtf8) != 0) w.WriteStringValue(LogFlags.InvalidUtf8);
            if ((flags & LineFlags.Multiline) != 0) w.WriteStringValue(LogFlags.Multiline);
            if ((flags & LineFlags.JsonError) != 0) w.WriteStringValue(LogFlags.JsonError);
            w.WriteEndArray();
        }
        w.WriteEndObject();
        w.WriteString("message"u8, line);
        if (parsed)
        {
            // Already checked to be one well-formed object: copied as it is, no tree is built.
            w.WritePropertyName("json"u8);
            w.WriteRawValue(line, skipInputValidation: true);
        }
        if (_tags.Count > 0)
        {
            w.WriteStartArray("tags"u8);
            for (int i = 0; i < _tags.Count; i++) w.WriteStringValue(_tags[i]);
            w.WriteEndArray();
        }
        if (_labels.Count > 0)
        {
            w.WriteStartObject("labels"u8);
            foreach (var (key, value) in _labels) w.WriteString(key, value);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.Flush();
        return _buffer.WrittenSpan.ToArray();
    }

    /// <summary>True when <paramref name="line"/> is exactly one JSON object (whitespace around it allowed).</summary>
    public static bool IsJsonObject(ReadOnlySpan<byte> line)
    {
        try
        {
            var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// Returns the line unchanged when it is valid UTF-8; otherwise a copy with U+FFFD for each bad
    /// sequence, and <see cref="LineFlags.InvalidUtf8"/> set. A bad byte never stops the tailer.
    /// </summary>
    public static ReadOnlySpan<byte> Sanitize(ReadOnlySpan<byte> line, ref LineFlags flags)
    {
        if (System.Text.Unicode.Utf8.IsValid(line)) return line;
        flags |= LineFlags.InvalidUtf8;
        return Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(line));
    }

    /// <summary>
    /// Length of the longest prefix of <paramref name="text"/> of at most <paramref name="max"/> bytes that
    /// does not end inside a multi-byte character, so truncating a valid line keeps it valid UTF-8.
    /// </summary>
    public static int Utf8Prefix(ReadOnlySpan<byte> text, int max)
    {
        if (text.Length <= max) return text.Length;
        int cut = max;
        // The first byte left out continues a character (10xxxxxx): leave out that whole character (at most 3 back).
        for (int i = 0; i < 3 && cut > 0 && (text[cut] & 0xC0) == 0x80; i++) cut--;
        return cut;
    }
}

[Flags]
public enum LineFlags : byte
{
    None = 0,
    Truncated = 1,
    InvalidUtf8 = 2,
    /// <summary>Several lines joined into one event.</summary>
    Multiline = 4,
    /// <summary><c>json = true</c>, but the line is not a JSON object.</summary>
    JsonError = 8,
}
