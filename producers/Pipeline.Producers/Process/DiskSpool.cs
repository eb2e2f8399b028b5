using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using Microsoft.Win32.SafeHandles;
using Pipeline.Plumbing.Telemetry;

namespace Pipeline.Producers.Process;

/// <summary>What a spooled record is, in the order they are given up when the spool is full.</summary>
public enum SpoolKind : byte
{
    Sample = 0,
    Event = 1,
    Oom = 2,
}

/// <summary>One record waiting in the spool for Kafka.</summary>
public sealed record SpoolRecord(SpoolKind Kind, long Sequence, byte[] Key, byte[] Value);

/// <summary>
/// A bounded first-in-first-out queue on disk for records Kafka could not take. Records are appended to
/// segment files and written to the OS before <see cref="Append"/> returns, so a kill -9 loses nothing
/// spooled; a torn last record (power loss mid-write) fails its CRC and is cut off on open.
/// When the spool is over its cap, whole segments are rewritten without their samples, oldest first;
/// then without start/exit events; OOM events are never dropped. Every drop is counted.
/// <code>segment file: { u32 length | u32 crc32 | u8 kind | i64 sequence | u16 key length | key | value }*</code>
/// The sequence of the last record Kafka acknowledged is kept in a file named <c>acked</c>.
/// The directory's layout version is in a file named <c>format</c> (absent: format 1, the same layout,
/// from before the file existed); a spool of a newer format is refused with <see cref="NewerStateFormatException"/>.
/// </summary>
public sealed class DiskSpool : IDisposable
{
    private const int HeaderBytes = 4 + 4 + 1 + 8 + 2;
    private const string SegmentSuffix = ".seg";
    private const int ReadChunkBytes = 1024 * 1024;
    public const int FormatVersion = 1;
    private const string FormatFile = "format";

    private readonly string _directory;
    private readonly long _maxBytes;
    private readonly long _segmentBytes;
    private readonly string _name;
    private readonly List<Segment> _segments = [];
    private readonly Prometheus.Gauge.Child _bytesGauge;
    private SafeFileHandle? _active;
    private long _nextSequence = 1;
    private long _acked;
    private long _readUpTo;
    private byte[] _scratch = new byte[64 * 1024];
    private byte[] _readBuffer = new byte[ReadChunkBytes];
    private Segment? _cursorSegment;
    private long _cursorOffset;

    public DiskSpool(string directory, long maxBytes, string name = "process")
    {
        _directory = directory;
        _maxBytes = maxBytes;
        _name = name;
        _segmentBytes = Math.Clamp(maxBytes / 8, 64 * 1024, 8 * 1024 * 1024);
        _bytesGauge = PipelineMetrics.SpoolBytes.WithLabels(name);
        System.IO.Directory.CreateDirectory(directory);
        Load();
    }

    public string Directory => _directory;

    public long MaxBytes => _maxBytes;

    /// <summary>Bytes on disk.</summary>
    public long Bytes { get; private set; }

    /// <summary>Records not yet acknowledged.</summary>
    public int Count { get; private set; }

    public bool IsEmpty => Count == 0;

    /// <summary>Records dropped because the spool was full, by kind.</summary>
    public long Dropped(SpoolKind kind) => _dropped[(int)kind];

    private readonly long[] _dropped = new long[3];

    /// <summary>Adds a record at the end; it is in the OS's hands (survives kill -9) when this returns.</summary>
    public long Append(SpoolKind kind, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        long sequence = _nextSequence++;
        int length = HeaderBytes + key.Length + value.Length;
        if (_scratch.Length < length) _scratch = new byte[Math.Max(length, _scratch.Length * 2)];
        var buffer = _scratch.AsSpan(0, length);
        Encode(buffer, kind, sequence, key, value);
        var segment = ActiveSegment(length);
        RandomAccess.Write(_active!, buffer, segment.Length);
        segment.Add(kind, sequence, length);
        Bytes += length;
        Count++;
        if (Bytes > _maxBytes) EnforceCap();
        _bytesGauge.Set(Bytes);
        return sequence;
    }

    /// <summary>Forces appended records to stable storage (against power loss; kill -9 is already safe).</summary>
    public void Sync()
    {
        if (_active is not null) RandomAccess.FlushToDisk(_active);
    }

    /// <summary>
    /// Reads up to <paramref name="max"/> records after those handed out already and not yet
    /// acknowledged, oldest first. After <see cref="Rewind"/> the unacknowledged ones come again.
    /// </summary>
    public void ReadNext(int max, List<SpoolRecord> into)
    {
        while (into.Count < max)
        {
            Segment? segment = null;
            foreach (var s in _segments)
            {
                if (s.LastSequence > _readUpTo) { segment = s; break; }
            }
            if (segment is null) return;
            long offset = ReferenceEquals(_cursorSegment, segment) ? _cursorOffset : 0;
            if (offset >= segment.Length) return;
            using var handle = File.OpenHandle(segment.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            int want = (int)Math.Min(segment.Length - offset, ReadChunkBytes);
            if (_readBuffer.Length < want) _readBuffer = new byte[want];
            int n = RandomAccess.Read(handle, _readBuffer.AsSpan(0, want), offset);
            int at = 0;
            while (at < n && into.Count < max)
            {
                int length = n - at >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(_readBuffer.AsSpan(at)) : int.MaxValue;
                if (length > n - at)
                {
                    if (at > 0 || length == int.MaxValue || offset + length > segment.Length) break;
                    // One record larger than a chunk: read it whole.
                    _readBuffer = new byte[length];
                    n = RandomAccess.Read(handle, _readBuffer.AsSpan(0, length), offset);
                    continue;
                }
                if (!TryDecode(_readBuffer.AsSpan(at, n - at), out var record, out length))
                {
                    at = (int)(segment.Length - offset); // damaged: nothing more in this segment can be trusted
                    break;
                }
                at += length;
                if (record.Sequence <= _readUpTo) continue;
                into.Add(record);
                _readUpTo = record.Sequence;
            }
            _cursorSegment = segment;
            _cursorOffset = offset + at;
            if (at == 0) return;
        }
    }

    /// <summary>Kafka acknowledged every record up to and including <paramref name="sequence"/>: forget them.</summary>
    public void Acknowledge(long sequence)
    {
        if (sequence <= _acked) return;
        _acked = sequence;
        while (_segments.Count > 0 && _segments[0].LastSequence <= _acked)
        {
            var s = _segments[0];
            if (s.Path == ActivePath) CloseActive();
            File.Delete(s.Path);
            _segments.RemoveAt(0);
        }
        Recount();
        WriteAcked();
    }

    /// <summary>Hands out the unacknowledged records again from the oldest (after a failed send).</summary>
    public void Rewind()
    {
        _readUpTo = _acked;
        _cursorSegment = null;
    }

    private Segment ActiveSegment(int length)
    {
        var last = _segments.Count > 0 ? _segments[^1] : null;
        if (last is null || last.Path != ActivePath || last.Length + length > _segmentBytes)
        {
            CloseActive();
            // Named after the first sequence it holds, so names sort in record order.
            var path = System.IO.Path.Combine(_directory, (_nextSequence - 1).ToString("D20", CultureInfo.InvariantCulture) + SegmentSuffix);
            last = new Segment(path);
            _segments.Add(last);
            _active = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read);
            ActivePath = path;
        }
        return last;
    }

    private string? ActivePath { get; set; }

    private void CloseActive()
    {
        _active?.Dispose();
        _active = null;
        ActivePath = null;
    }

    // Oldest samples go first, then start/exit events; OOM events stay even past the cap.
    private void EnforceCap()
    {
        foreach (var kind in (ReadOnlySpan<SpoolKind>)[SpoolKind.Sample, SpoolKind.Event])
        {
            for (int i = 0; i < _segments.Count && Bytes > _maxBytes; i++)
            {
                if (_segments[i].CountOf(kind) == 0) continue;
                Compact(i, kind);
            }
            if (Bytes <= _maxBytes) return;
        }
    }

    private void Compact(int index, SpoolKind drop)
    {
        var segment = _segments[index];
        if (segment.Path == ActivePath) CloseActive(); // the next append starts a new segment
        var data = File.ReadAllBytes(segment.Path);
        var kept = new Segment(segment.Path);
        using var output = new MemoryStream(data.Length);
        int at = 0;
        long dropped = 0;
        while (at < data.Length && TryDecode(data.AsSpan(at), out var record, out int length))
        {
            var raw = data.AsSpan(at, length);
            at += length;
            // Acknowledged records are gone already; the dropped kind goes now, oldest first, until under the cap.
            if (record.Sequence <= _acked) continue;
            if (record.Kind == drop && Bytes - dropped > _maxBytes)
            {
                dropped += length;
                _dropped[(int)drop]++;
                PipelineMetrics.SpoolDropped.WithLabels(_name, KindLabel(drop)).Inc();
                continue;
            }
            output.Write(raw);
            kept.Add(record.Kind, record.Sequence, length);
        }
        var tmp = segment.Path + ".tmp";
        File.WriteAllBytes(tmp, output.ToArray());
        File.Move(tmp, segment.Path, overwrite: true);
        if (kept.Length == 0)
        {
            File.Delete(segment.Path);
            _segments.RemoveAt(index);
        }
        else
        {
            _segments[index] = kept;
        }
        Recount();
    }

    private void Recount()
    {
        long bytes = 0;
        int count = 0;
        foreach (var s in _segments)
        {
            bytes += s.Length;
            count += s.CountAfter(_acked);
        }
        Bytes = bytes;
        Count = count;
        _bytesGauge.Set(Bytes);
    }

    public static string KindLabel(SpoolKind kind) => kind switch
    {
        SpoolKind.Sample => "sample",
        SpoolKind.Event => "event",
        _ => "oom",
    };

    private void Load()
    {
        var format = System.IO.Path.Combine(_directory, FormatFile);
        if (File.Exists(format))
        {
            var text = File.ReadAllText(format).Trim();
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int version))
                throw new InvalidDataException($"{format} should hold the spool's format version, a number, but holds \"{text}\"; move the spool aside to start over");
            if (version > FormatVersion) throw new NewerStateFormatException(_directory, "process spool", version, FormatVersion);
        }
        else
        {
            ReplaceText(format, FormatVersion.ToString(CultureInfo.InvariantCulture));
        }
        var acked = System.IO.Path.Combine(_directory, "acked");
        if (File.Exists(acked) && long.TryParse(File.ReadAllText(acked).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long a)) _acked = a;
        foreach (var tmp in System.IO.Directory.GetFiles(_directory, "*.tmp")) File.Delete(tmp);
        var files = System.IO.Directory.GetFiles(_directory, "*" + SegmentSuffix);
        Array.Sort(files, StringComparer.Ordinal);
        long last = _acked;
        foreach (var path in files)
        {
            var data = File.ReadAllBytes(path);
            var segment = new Segment(path);
            int at = 0;
            while (at < data.Length && TryDecode(data.AsSpan(at), out var record, out int length))
            {
                segment.Add(record.Kind, record.Sequence, length);
                last = Math.Max(last, record.Sequence);
                at += length;
            }
            if (at < data.Length)
            {
                // A record torn by a crash mid-write: keep everything before it.
                using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write);
                RandomAccess.SetLength(handle, at);
            }
            if (segment.Length == 0 || segment.LastSequence <= _acked) File.Delete(path);
            else _segments.Add(segment);
        }
        _nextSequence = last + 1;
        _readUpTo = _acked;
        Recount();
    }

    private void WriteAcked() => ReplaceText(System.IO.Path.Combine(_directory, "acked"), _acked.ToString(CultureInfo.InvariantCulture));

    /// <summary>Writes a small file whole or not at all: temp file, then rename (a torn one is deleted at open).</summary>
    private static void ReplaceText(string path, string text)
    {
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, text);
        File.Move(tmp, path, overwrite: true);
    }

    private static void Encode(Span<byte> buffer, SpoolKind kind, long sequence, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(buffer, buffer.Length);
        buffer[8] = (byte)kind;
        BinaryPrimitives.WriteInt64LittleEndian(buffer[9..], sequence);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[17..], checked((ushort)key.Length));
        key.CopyTo(buffer[HeaderBytes..]);
        value.CopyTo(buffer[(HeaderBytes + key.Length)..]);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[4..], Crc32.HashToUInt32(buffer[8..]));
    }

    private static bool TryDecode(ReadOnlySpan<byte> data, out SpoolRecord record, out int length)
    {
        record = null!;
        length = 0;
        if (data.Length < HeaderBytes) return false;
        length = BinaryPrimitives.ReadInt32LittleEndian(data);
        if (length < HeaderBytes || length > data.Length) return false;
        var body = data[..length];
        if (BinaryPrimitives.ReadUInt32LittleEndian(body[4..]) != Crc32.HashToUInt32(body[8..])) return false;
        var kind = (SpoolKind)body[8];
        long sequence = BinaryPrimitives.ReadInt64LittleEndian(body[9..]);
        int keyLength = BinaryPrimitives.ReadUInt16LittleEndian(body[17..]);
        if (HeaderBytes + keyLength > length) return false;
        record = new SpoolRecord(kind, sequence, body.Slice(HeaderBytes, keyLength).ToArray(), body[(HeaderBytes + keyLength)..].ToArray());
        return true;
    }

    public void Dispose()
    {
        CloseActive();
    }

    private sealed class Segment(string path)
    {
        private readonly List<(long Sequence, SpoolKind Kind)> _records = [];
        private readonly int[] _counts = new int[3];

        public string Path { get; } = path;
        public long Length { get; private set; }
        public long LastSequence { get; private set; }

        public void Add(SpoolKind kind, long sequence, int length)
        {
            _records.Add((sequence, kind));
            _counts[(int)kind]++;
            Length += length;
            LastSequence = Math.Max(LastSequence, sequence);
        }

        public int CountOf(SpoolKind kind) => _counts[(int)kind];

        public int CountAfter(long acked)
        {
            int n = 0;
            foreach (var (sequence, _) in _records)
            {
                if (sequence > acked) n++;
            }
            return n;
        }
    }
}
