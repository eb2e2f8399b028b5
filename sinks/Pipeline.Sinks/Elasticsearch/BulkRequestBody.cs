using System.Buffers;
using System.Text.Json;

namespace Pipeline.Sinks.Elasticsearch;

/// <summary>
/// The NDJSON body of one bulk request, in a pooled buffer: per record an action line
/// <c>{"create":{"_index":"&lt;data stream&gt;","_id":"&lt;id&gt;"}}</c> and then the record's value bytes as they are.
/// Values are never re-serialized; the only change is that a raw CR or LF (whitespace between JSON tokens, since
/// inside strings they must be escaped) becomes a space, because a newline would end the NDJSON line.
/// </summary>
internal sealed class BulkRequestBody : IBufferWriter<byte>, IDisposable
{
    private static readonly JsonEncodedText Create = JsonEncodedText.Encode("create");
    private static readonly JsonEncodedText Index = JsonEncodedText.Encode("_index");
    private static readonly JsonEncodedText Id = JsonEncodedText.Encode("_id");

    // The action line without the two strings: {"create":{"_index":"","_id":""}} plus the newline.
    private const int ActionOverhead = 36;

    private byte[] _buffer;
    private int _length;

    private BulkRequestBody(int capacity) => _buffer = ArrayPool<byte>.Shared.Rent(capacity);

    /// <summary>The bytes to send.</summary>
    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, _length);

    /// <summary>Builds the body for the records of <paramref name="batch"/> at <paramref name="slots"/>, in that order.</summary>
    public static BulkRequestBody Build(IReadOnlyList<SinkRecord> batch, ReadOnlySpan<int> slots)
    {
        var capacity = 0L;
        foreach (var slot in slots)
        {
            var record = batch[slot];
            capacity += ActionOverhead + record.DataStream.Length + record.DocumentId.Length + record.Value.Length + 1;
        }
        var body = new BulkRequestBody((int)Math.Min(capacity, Array.MaxLength));
        using var json = new Utf8JsonWriter(body);
        foreach (var slot in slots)
        {
            var record = batch[slot];
            json.Reset(body);
            json.WriteStartObject();
            json.WriteStartObject(Create);
            json.WriteString(Index, record.DataStream);
            json.WriteString(Id, record.DocumentId);
            json.WriteEndObject();
            json.WriteEndObject();
            json.Flush();
            body.WriteByte((byte)'\n');
            body.WriteValue(record.Value);
            body.WriteByte((byte)'\n');
        }
        return body;
    }

    /// <summary>A value Elasticsearch could only refuse: empty or whitespace. It is rejected without being sent.</summary>
    public static bool IsBlank(ReadOnlySpan<byte> value) => value.Trim(" \t\r\n"u8).IsEmpty;

    private void WriteValue(ReadOnlySpan<byte> value)
    {
        var target = GetSpan(value.Length)[..value.Length];
        value.CopyTo(target);
        target.Replace((byte)'\n', (byte)' ');
        target.Replace((byte)'\r', (byte)' ');
        _length += value.Length;
    }

    private void WriteByte(byte value)
    {
        GetSpan(1)[0] = value;
        _length++;
    }

    public void Advance(int count) => _length += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_length);
    }

    private void Ensure(int sizeHint)
    {
        var needed = _length + Math.Max(sizeHint, 1);
        if (needed <= _buffer.Length) return;
        var grown = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Max((long)_buffer.Length * 2, needed), Array.MaxLength));
        _buffer.AsSpan(0, _length).CopyTo(grown);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = grown;
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        _length = 0;
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }
}
