using System.Collections.Concurrent;
using System.IO.Hashing;
using Microsoft.Win32.SafeHandles;

namespace Pipeline.Producers.Logs;


/// <summary>
/// Reads one open file line by line (Filebeat's harvester). Keeps the handle open across renames and
/// deletes, notices copytruncate, bounds memory per line, and tracks which offsets Kafka acknowledged.
/// </summary>
internal sealed class LogFileReader : IDisposable
{
    public const int FingerprintLength = 1024;
    private const int InitialBuffer = 64 * 1024;

    private readonly FileStream _stream;
    private readonly int _maxLineBytes;
    private readonly LineEncoding _encoding;
    private readonly int _newlineWidth;
    private readonly MultilineAssembler? _multiline;
    private byte[] _buffer = new byte[InitialBuffer];
    private byte[] _transcoded = [];
    private int _start;          // first byte of the current (unfinished) line in _buffer
    private int _end;            // end of valid data in _buffer
    private int _scanFrom;       // where the newline search resumes
    private long _bufferOffset;  // file offset of _buffer[0]
    private bool _skipping;      // discarding the rest of an over-long line already shipped truncated

    // Delivery tracking. Records of one file share a key, hence a partition, and the idempotent producer
    // reports them in order; so a FIFO of end offsets is enough to know what Kafka has acknowledged.
    // Every produced record gets exactly one report, so the FIFO is never cleared: after a rewind or a
    // truncation, the reports of records sent before it still arrive and must pop their own (older
    // generation) entries, not the entries of the lines sent again.
    // Dead letters go to another topic (another partition), so their reports interleave with the log
    // records' in any order; each kind is in order by itself. A report that arrives before the entries
    // ahead of it were answered waits in its kind's queue, so an entry is always settled by its own report.
    private readonly ConcurrentQueue<(long End, int Generation, bool DeadLetter, int Size)> _inFlight = new();
    private readonly Queue<bool> _earlyLogReports = new();
    private readonly Queue<bool> _earlyDeadLetterReports = new();
    private readonly Lock _reports = new();
    private long _acked;
    private long _lastLength = -1;
    private ulong _fingerprintHash;
    private long _readThrough;   // tailer thread only: where reading may resume once everything sent so far is acknowledged
    private int _generation;
    private int _failed;

    public LogFileReader(string path, FileStatus status, long startOffset, int maxLineBytes, LineEncoding? encoding = null, MultilineAssembler? multiline = null)
    {
        Path = path;
        Identity = status.Identity;
        IdentityText = status.Identity.ToString();
        _maxLineBytes = maxLineBytes;
        _encoding = encoding ?? LineEncoding.Utf8;
        _newlineWidth = _encoding.NewlineWidth;
        _multiline = multiline;
        _stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Open,
            Access = FileAccess.Read,
            // Never block the writer, a rename or a delete of the file we are reading.
            Share = FileShare.ReadWrite | FileShare.Delete,
            BufferSize = 0,
        });
        var opened = FileIdentity.Of(_stream.SafeFileHandle);
        if (opened.Identity != status.Identity) throw new IOException($"{path} was replaced while being opened");
        if (startOffset > opened.Size) startOffset = 0;
        _stream.Position = startOffset;
        _bufferOffset = startOffset;
        _acked = startOffset;
        _readThrough = startOffset;
        LastActivity = DateTime.UtcNow;
    }

    public string Path { get; set; }

    /// <summary>The input this file was found by (its encoder adds that input's fields and tags; its filter chain may be swapped by a reload).</summary>
    public LogInput? Input { get; set; }

    /// <summary>The tailer's number for this file while it is open: its records' delivery reports carry it back.</summary>
    public int Slot { get; set; } = -1;

    /// <summary>The multiline assembler, when the input joins lines.</summary>
    public MultilineAssembler? Multiline => _multiline;

    /// <summary>The input was removed by a reload: read no more, close once Kafka has answered for what was sent.</summary>
    public bool Retired { get; set; }
    public FileIdentity Identity { get; }
    public string IdentityText { get; }

    /// <summary>The path now names another file (or none): read to the end, then close.</summary>
    public bool Rotated { get; set; }

    public DateTime LastActivity { get; private set; }
    public DateTime LastSeen { get; set; } = DateTime.UtcNow;

    public string? Fingerprint { get; private set; }
    public int FingerprintBytes { get; private set; }

    /// <summary>Offset of the first line Kafka has not yet acknowledged: what a checkpoint may record.</summary>
    public long AckedOffset => Interlocked.Read(ref _acked);

    public int InFlight => _inFlight.Count;

    /// <summary>
    /// Called on the producer's delivery thread, in production order (per kind: log record or dead letter).
    /// Returns the bytes of the records now settled, for the tailer's in-flight budget.
    /// </summary>
    public long OnDelivered(bool success, bool deadLetter = false)
    {
        long freed = 0;
        lock (_reports)
        {
            (deadLetter ? _earlyDeadLetterReports : _earlyLogReports).Enqueue(success);
            // The entry leaves the queue after its outcome is recorded, so the tailer thread never sees an
            // empty queue while a failure is still unrecorded.
            while (_inFlight.TryPeek(out var entry))
            {
                var reports = entry.DeadLetter ? _earlyDeadLetterReports : _earlyLogReports;
                if (!reports.TryDequeue(out bool ok)) break;
                if (entry.Generation == Volatile.Read(ref _generation))
                {
                    if (!ok) Volatile.Write(ref _failed, 1);
                    else if (Volatile.Read(ref _failed) == 0) Interlocked.Exchange(ref _acked, entry.End);
                }
                freed += entry.Size;
                _inFlight.TryDequeue(out _);
            }
        }
        return freed;
    }

    /// <summary>Records a line (or its dead letter) of <paramref name="size"/> bytes as sent; <paramref name="ackOffset"/> becomes acknowledged once its report arrives.</summary>
    public void TrackProduced(long ackOffset, bool deadLetter = false, int size = 0)
    {
        _readThrough = ackOffset;
        _inFlight.Enqueue((ackOffset, Volatile.Read(ref _generation), deadLetter, size));
    }

    /// <summary>True once a delivery failed: the tailer rewinds to <see cref="AckedOffset"/> and sends again.</summary>
    public bool DeliveryFailed => Volatile.Read(ref _failed) != 0;

    /// <summary>Goes back to the last acknowledged offset after a failed delivery (lines are re-sent with the same ids).</summary>
    public void RewindToAcked()
    {
        Interlocked.Increment(ref _generation);
        ResetTo(AckedOffset);
        Volatile.Write(ref _failed, 0);
    }

    /// <summary>
    /// Reads up to <paramref name="maxLines"/> complete lines, fewer when the sink pauses. Returns how many
    /// were consumed (emitted or taken into a multiline event), 0 at end of data.
    /// </summary>
    public int ReadLines(ILineSink sink, int maxLines, out bool truncatedDetected)
    {
        truncatedDetected = false;
        long length = _stream.Length;
        // copytruncate shows as a file shorter than what was read; or, when the application wrote past that
        // size again before this look, as a first KiB that is not what it was.
        bool truncated = length < _bufferOffset + _end || (length != _lastLength && HeadChanged());
        _lastLength = length;
        if (truncated)
        {
            // The old content was shipped; read the new from 0.
            truncatedDetected = true;
            Interlocked.Increment(ref _generation);
            ResetTo(0);
            Interlocked.Exchange(ref _acked, 0);
            // The fingerprint was of the old content; a checkpoint must carry the new content's.
            (Fingerprint, FingerprintBytes) = (null, 0);
        }
        AdvanceIfIdle();
        TryFingerprint(length);
        int consumed = 0;
        while (consumed < maxLines && !sink.Paused)
        {
            int nl = _encoding.IndexOfNewline(_buffer.AsSpan(_scanFrom, _end - _scanFrom), _bufferOffset + _scanFrom);
            if (nl >= 0)
            {
                int lineEnd = _scanFrom + nl;
                long lineOffset = _bufferOffset + _start;
                long next = _bufferOffset + lineEnd + _newlineWidth;
                if (_skipping)
                {
                    // The over-long line ends here; its head was shipped already.
                    _skipping = false;
                    SkipTo(next);
                }
                else
                {
                    var line = _encoding.TrimCarriageReturn(_buffer.AsSpan(_start, lineEnd - _start));
                    var flags = LineFlags.None;
                    if (line.Length > _maxLineBytes) { line = line[.._encoding.Prefix(line, _maxLineBytes)]; flags |= LineFlags.Truncated; }
                    // Empty lines are passed to a multiline assembler: they can belong to an event.
                    if (line.Length > 0 || _multiline is not null) { Deliver(sink, line, lineOffset, next, flags); consumed++; }
                    else SkipTo(next);
                }
                _start = _scanFrom = lineEnd + _newlineWidth;
                continue;
            }
            // Keep a newline's first byte (UTF-16) in the search: its second byte may come with the next read.
            _scanFrom = Math.Max(_start, _end - (_newlineWidth - 1));
            int pending = _end - _start;
            if (!_skipping && pending >= _maxLineBytes)
            {
                // Ship the first max_line_bytes now, drop the rest up to the newline. Its ack offset is the
                // line's own start, so a restart before the newline arrives re-sends it (same id) rather than skip.
                long lineOffset = _bufferOffset + _start;
                var head = _buffer.AsSpan(_start, pending);
                Deliver(sink, head[.._encoding.Prefix(head, _maxLineBytes)], lineOffset, lineOffset, LineFlags.Truncated);
                consumed++;
                _skipping = true;
            }
            if (_skipping) { _start = _scanFrom = Math.Max(_start, _end - (_newlineWidth - 1)); }
            if (!Fill()) break;
        }
        if (consumed > 0) LastActivity = DateTime.UtcNow;
        return consumed;
    }

    /// <summary>
    /// Every byte the file holds now has been read into the buffer (what is left there is a last line
    /// without its newline). A reader that returned no lines may just have been paused by back-pressure.
    /// </summary>
    public bool AtEndOfFile => _bufferOffset + _end >= _stream.Length;

    /// <summary>At the end of a rotated file, a last line without a newline is still a line, and a pending multiline event is complete.</summary>
    public void FlushPartialLine(ILineSink sink)
    {
        if (!_skipping && _end > _start)
        {
            var line = _buffer.AsSpan(_start, _end - _start);
            var flags = line.Length > _maxLineBytes ? LineFlags.Truncated : LineFlags.None;
            line = line[.._encoding.Prefix(line, _maxLineBytes)];
            long offset = _bufferOffset + _start;
            Deliver(sink, _encoding.TrimCarriageReturn(line), offset, _bufferOffset + _end, flags);
            _start = _scanFrom = _end;
        }
        _multiline?.Flush(sink, this);
    }

    /// <summary>Sends a multiline event that waited longer than its timeout for another line.</summary>
    public void FlushIfIdle(ILineSink sink, DateTime now)
    {
        if (_multiline is { HasPending: true } m && now - m.LastLineAt >= m.Timeout) m.Flush(sink, this);
    }

    private void Deliver(ILineSink sink, ReadOnlySpan<byte> line, long offset, long ackOffset, LineFlags flags)
    {
        var bom = _encoding.ByteOrderMark;
        if (offset == 0 && bom.Length > 0 && line.StartsWith(bom)) line = line[bom.Length..];
        var utf8 = _encoding.ToUtf8(line, ref _transcoded);
        if (_multiline is not null) _multiline.Add(sink, this, utf8, offset, ackOffset, flags);
        else if (utf8.Length > 0) sink.Emit(this, utf8, offset, ackOffset, flags);
        else SkipTo(ackOffset);
    }

    /// <summary>
    /// Passes bytes that need no delivery (an empty line, the tail of an over-long line, a line a filter
    /// dropped): the offset advances to <paramref name="next"/> once everything before it is acknowledged,
    /// now or on a later read (<see cref="AdvanceIfIdle"/>), so the checkpoint still moves in order.
    /// </summary>
    public void SkipTo(long next)
    {
        _readThrough = next;
        AdvanceIfIdle();
    }

    private void AdvanceIfIdle()
    {
        if (!_inFlight.IsEmpty || DeliveryFailed) return;
        // Never past the first line of a multiline event still being assembled: it exists only in memory.
        long target = Math.Min(_readThrough, _multiline?.PendingOffset ?? long.MaxValue);
        if (target > AckedOffset) Interlocked.Exchange(ref _acked, target);
    }

    private bool Fill()
    {
        if (_start > 0)
        {
            // Slide the unfinished line to the front.
            int keep = _end - _start;
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, keep);
            _bufferOffset += _start;
            _scanFrom -= _start;
            _end = keep;
            _start = 0;
        }
        if (_end == _buffer.Length)
        {
            // Grow up to one max-length line; beyond that the line is truncated above.
            int size = Math.Min(_buffer.Length * 2, Math.Max(_maxLineBytes + 1, InitialBuffer));
            if (size <= _buffer.Length) return false;
            Array.Resize(ref _buffer, size);
        }
        int n = _stream.Read(_buffer, _end, _buffer.Length - _end);
        if (n <= 0) return false;
        _end += n;
        return true;
    }

    private void ResetTo(long offset)
    {
        _stream.Position = offset;
        _bufferOffset = offset;
        _start = _end = _scanFrom = 0;
        _skipping = false;
        _readThrough = offset;
        _multiline?.Reset();
    }

    private void TryFingerprint(long length)
    {
        if (Fingerprint is not null && FingerprintBytes == FingerprintLength) return;
        int n = (int)Math.Min(length, FingerprintLength);
        if (n == 0 || n == FingerprintBytes) return;
        _fingerprintHash = HashHead(_stream.SafeFileHandle, n);
        // The registry's text form: the hash's big-endian bytes in hex, as XxHash64.Hash writes them.
        Span<byte> bigEndian = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bigEndian, _fingerprintHash);
        (Fingerprint, FingerprintBytes) = (Convert.ToHexStringLower(bigEndian), n);
    }

    /// <summary>True when the bytes the fingerprint was taken of are not there any more (one pread of at most 1 KiB).</summary>
    private bool HeadChanged() => FingerprintBytes > 0 && HashHead(_stream.SafeFileHandle, FingerprintBytes) != _fingerprintHash;

    private static ulong HashHead(SafeFileHandle handle, int length)
    {
        Span<byte> head = stackalloc byte[FingerprintLength];
        int read = RandomAccess.Read(handle, head[..length], 0);
        // Fewer bytes than asked for: the file is shorter now, so the head is not what it was.
        return read < length ? ~XxHash64.HashToUInt64(head[..read]) : XxHash64.HashToUInt64(head[..read]);
    }

    public static string ComputeFingerprint(SafeFileHandle handle, int length)
    {
        Span<byte> head = stackalloc byte[FingerprintLength];
        int read = RandomAccess.Read(handle, head[..length], 0);
        return Convert.ToHexStringLower(XxHash64.Hash(head[..read]));
    }

    public void Dispose() => _stream.Dispose();
}
