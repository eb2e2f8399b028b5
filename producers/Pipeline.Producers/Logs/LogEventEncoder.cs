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
    // Relaxed escaping: the events go to Kafka and Elasticsearch, never into HTML, so '+', '<', '&' and
    // non-ASCII text stay as they are (valid JSON, smaller, and no escaping work on most lines).
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // The shape is fixed by this class; validation costs on every property.
        SkipValidation = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Utf8JsonWriter _writer;
    private readonly string _host;
    private readonly JsonEncodedText _hostEncoded;
    private readonly (JsonEncodedText Key, JsonEncodedText Value)[] _labels;
    private readonly JsonEncodedText[] _tags;
    private readonly bool _json;

    // What stays the same from one line to the next is prepared once: the file's path as JSON, the id
    // hash's prefix (host and file identity), and the formatted time of the current millisecond.
    private readonly System.IO.Hashing.XxHash128 _idHash = new();
    private string? _lastPath;
    private JsonEncodedText _pathEncoded;
    private string? _lastIdentity;
    private byte[] _idPrefix = [];
    private long _lastMillis = long.MinValue;
    private readonly byte[] _timestamp = new byte[40];
    private int _timestampLength;

    /// <param name="json">Parse each line as a JSON object into the event's <c>json</c> field (<c>json = true</c>).</param>
    public LogEventEncoder(string host, IReadOnlyDictionary<string, string> labels, IReadOnlyList<string> tags, bool json = false)
    {
        _host = host;
        _json = json;
        _hostEncoded = JsonEncodedText.Encode(host, WriterOptions.Encoder);
        _labels = new (JsonEncodedText, JsonEncodedText)[labels.Count];
        int i = 0;
        foreach (var (key, value) in labels) _labels[i++] = (JsonEncodedText.Encode(key, WriterOptions.Encoder), JsonEncodedText.Encode(value, WriterOptions.Encoder));
        _tags = new JsonEncodedText[tags.Count];
        for (i = 0; i < tags.Count; i++) _tags[i] = JsonEncodedText.Encode(tags[i], WriterOptions.Encoder);
        _writer = new Utf8JsonWriter(_buffer, WriterOptions);
    }

    /// <summary>Encodes one line into a new array. <paramref name="line"/> must be valid UTF-8 (see <see cref="Sanitize"/>).</summary>
    public byte[] Encode(ReadOnlySpan<byte> line, long offset, string path, string fileIdentity, DateTimeOffset timestamp, LineFlags flags)
        => EncodeInPlace(line, offset, path, fileIdentity, timestamp, flags).ToArray();

    /// <summary>
    /// Encodes one line into this encoder's buffer: the span is valid until the next call. The hot path
    /// copies it only once, into the record handed to Kafka.
    /// </summary>
    /// <summary>The level the last encoded line states (<c>error</c>, <c>warn</c>, ...), or null: lets the tailer keep the trace of a batch with an error line.</summary>
    public string? LastLevel { get; private set; }

    public ReadOnlySpan<byte> EncodeInPlace(ReadOnlySpan<byte> line, long offset, string path, string fileIdentity, DateTimeOffset timestamp, LineFlags flags)
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
        w.WritePropertyName("@timestamp"u8);
        w.WriteRawValue(FormattedTime(timestamp), skipInputValidation: true);
        w.WriteStartObject("event"u8);
        w.WriteString("kind"u8, "event"u8);
        w.WriteString("dataset"u8, "ops.logs"u8);
        Span<byte> id = stackalloc byte[32];
        WriteId(id, fileIdentity, offset, line);
        w.WriteString("id"u8, id);
        w.WriteEndObject();
        w.WriteStartObject("host"u8);
        w.WriteString("name"u8, _hostEncoded);
        w.WriteEndObject();
        w.WriteStartObject("log"u8);
        w.WriteStartObject("file"u8);
        if (!ReferenceEquals(path, _lastPath))
        {
            _pathEncoded = JsonEncodedText.Encode(path, WriterOptions.Encoder);
            _lastPath = path;
        }
        w.WriteString("path"u8, _pathEncoded);
        w.WriteEndObject();
        w.WriteNumber("offset"u8, offset);
        var level = LevelSniffer.Sniff(line);
        LastLevel = level;
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
        if (_tags.Length > 0)
        {
            w.WriteStartArray("tags"u8);
            foreach (var tag in _tags) w.WriteStringValue(tag);
            w.WriteEndArray();
        }
        if (_labels.Length > 0)
        {
            w.WriteStartObject("labels"u8);
            foreach (var (key, value) in _labels) w.WriteString(key, value);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.Flush();
        return _buffer.WrittenSpan;
    }

    /// <summary>
    /// <see cref="EventIds.ForLogLine"/>, without its per-line allocations: the same bytes are hashed
    /// (length-prefixed host and identity, offset, line), the prefix prepared once per file. Tests hold
    /// the two equal.
    /// </summary>
    private void WriteId(Span<byte> destination, string fileIdentity, long offset, ReadOnlySpan<byte> line)
    {
        if (!ReferenceEquals(fileIdentity, _lastIdentity))
        {
            _idPrefix = [.. LengthPrefixed(_host), .. LengthPrefixed(fileIdentity)];
            _lastIdentity = fileIdentity;
        }
        _idHash.Reset();
        _idHash.Append(_idPrefix);
        Span<byte> offsetBytes = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(offsetBytes, offset);
        _idHash.Append(offsetBytes);
        _idHash.Append(line);
        Span<byte> digest = stackalloc byte[16];
        _idHash.GetCurrentHash(digest);
        Convert.TryToHexStringLower(digest, destination, out _);
    }

    private static byte[] LengthPrefixed(string value)
    {
        var bytes = new byte[4 + Encoding.UTF8.GetByteCount(value)];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes, value.Length);
        Encoding.UTF8.GetBytes(value, bytes.AsSpan(4));
        return bytes;
    }

    /// <summary>The time as a quoted JSON string, to the millisecond, formatted once per millisecond.</summary>
    private ReadOnlySpan<byte> FormattedTime(DateTimeOffset timestamp)
    {
        long millis = timestamp.UtcTicks / TimeSpan.TicksPerMillisecond;
        if (millis != _lastMillis)
        {
            var truncated = new DateTimeOffset(millis * TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
            _timestamp[0] = (byte)'"';
            truncated.TryFormat(_timestamp.AsSpan(1), out int n, "yyyy-MM-dd'T'HH:mm:ss.fffzzz", System.Globalization.CultureInfo.InvariantCulture);
            _timestamp[n + 1] = (byte)'"';
            _timestampLength = n + 2;
            _lastMillis = millis;
        }
        return _timestamp.AsSpan(0, _timestampLength);
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
