using System.Text;
using System.Text.RegularExpressions;
using Pipeline.Plumbing.Config;

namespace Pipeline.Producers.Logs;

/// <summary>
/// Joins the lines of one file into multiline events (<c>[logs.inputs.multiline]</c>), with Filebeat's
/// pattern/negate/match semantics. One per reader. The event waiting for more lines lives only here:
/// the reader never lets the checkpoint pass its first line, so a crash re-reads it rather than losing it.
/// </summary>
internal sealed class MultilineAssembler
{
    private readonly Regex _pattern;
    private readonly bool _negate;
    private readonly bool _after;
    private readonly int _maxLines;
    private readonly int _maxBytes;
    private byte[] _record = new byte[4096];
    private char[] _chars = new char[1024];
    private int _length;
    private int _lines;
    private long _offset;
    private long _ackOffset;
    private LineFlags _flags;

    public MultilineAssembler(MultilineConfig config, int maxBytes)
    {
        _pattern = new Regex(config.Pattern, RegexOptions.CultureInvariant | RegexOptions.Compiled, TimeSpan.FromMilliseconds(100));
        _negate = config.Negate;
        _after = config.Match != "before";
        _maxLines = config.MaxLines;
        _maxBytes = maxBytes;
        Timeout = Duration.Parse(config.Timeout);
    }

    /// <summary>How long an event may wait for its next line before it is sent as it is.</summary>
    public TimeSpan Timeout { get; }

    public bool HasPending => _lines > 0;

    /// <summary>File offset of the pending event's first line: the checkpoint may not pass it.</summary>
    public long PendingOffset => _lines > 0 ? _offset : long.MaxValue;

    /// <summary>When the pending event last grew.</summary>
    public DateTime LastLineAt { get; private set; }

    /// <summary>Takes one line (UTF-8, possibly empty); emits the event it completes, if any.</summary>
    public void Add(ILineSink sink, LogFileReader reader, ReadOnlySpan<byte> line, long offset, long ackOffset, LineFlags flags)
    {
        bool matched = Matches(line) != _negate;
        if (_after)
        {
            // A matching line continues the event before it; any other line starts a new one.
            if (!matched || _lines == 0)
            {
                Flush(sink, reader);
                Start(line, offset, ackOffset, flags);
            }
            else
            {
                Append(line, ackOffset, flags);
            }
        }
        else
        {
            // A matching line continues into the next; the first line that does not match ends the event.
            if (_lines == 0) Start(line, offset, ackOffset, flags);
            else Append(line, ackOffset, flags);
            if (!matched) Flush(sink, reader);
        }
        LastLineAt = DateTime.UtcNow;
    }

    /// <summary>Sends the pending event, if there is one.</summary>
    public void Flush(ILineSink sink, LogFileReader reader)
    {
        if (_lines == 0) return;
        var flags = _flags | (_lines > 1 ? LineFlags.Multiline : LineFlags.None);
        int length = _length;
        long offset = _offset, ackOffset = _ackOffset;
        _lines = 0;
        _length = 0;
        _flags = LineFlags.None;
        // Only empty lines: nothing to send, but their bytes are passed like any empty line's.
        if (length == 0) reader.SkipTo(ackOffset);
        else sink.Emit(reader, _record.AsSpan(0, length), offset, ackOffset, flags);
    }

    /// <summary>Forgets the pending event (the reader rewound or the file was truncated; it will be read again).</summary>
    public void Reset()
    {
        _lines = 0;
        _length = 0;
        _flags = LineFlags.None;
    }

    private void Start(ReadOnlySpan<byte> line, long offset, long ackOffset, LineFlags flags)
    {
        _offset = offset;
        _lines = 1;
        _length = 0;
        _flags = flags;
        Copy(line);
        _ackOffset = ackOffset;
    }

    private void Append(ReadOnlySpan<byte> line, long ackOffset, LineFlags flags)
    {
        // The line is consumed either way: its bytes count toward the checkpoint once the event is delivered.
        _ackOffset = ackOffset;
        if (_lines >= _maxLines || _length >= _maxBytes)
        {
            _flags |= LineFlags.Truncated;
            return;
        }
        _lines++;
        _flags |= flags;
        Copy("\n"u8);
        Copy(line);
    }

    private void Copy(ReadOnlySpan<byte> bytes)
    {
        int room = _maxBytes - _length;
        if (bytes.Length > room)
        {
            bytes = bytes[..LogEventEncoder.Utf8Prefix(bytes, room)];
            _flags |= LineFlags.Truncated;
        }
        if (_length + bytes.Length > _record.Length) Array.Resize(ref _record, Math.Min(_maxBytes, Math.Max(_record.Length * 2, _length + bytes.Length)));
        bytes.CopyTo(_record.AsSpan(_length));
        _length += bytes.Length;
    }

    private bool Matches(ReadOnlySpan<byte> line)
    {
        int max = Encoding.UTF8.GetMaxCharCount(line.Length);
        if (_chars.Length < max) _chars = new char[Math.Max(max, _chars.Length * 2)];
        int n = Encoding.UTF8.GetChars(line, _chars);
        try
        {
            return _pattern.IsMatch(_chars.AsSpan(0, n));
        }
        catch (RegexMatchTimeoutException)
        {
            // A pathological line must not stall the file: treat it as not matching.
            return false;
        }
    }
}
