using System.Buffers.Binary;
using System.Collections;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Crosscutting;
using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.State.Enumerator;
using Streamiz.Kafka.Net.State.Supplier;
using Streamiz.Kafka.Net.Stream;

namespace Pipeline.Processors.Rules;

/// <summary>
/// An in-memory window store whose point lookup is a hash lookup. Hand-written because Streamiz 1.8.2's
/// <c>InMemoryWindowStore.Fetch(key, time)</c>, which a windowed aggregate calls for every record, scans every key of
/// the window linearly (<c>FirstOrDefault</c> over the segment), copies the segment list to expire old windows, and
/// takes a kernel <c>Mutex</c> twice: with 10,000 hosts in a 1-minute window that scan was the largest cost of a rule.
/// Same contract otherwise: one value per (key, window start), a null value deletes, windows older than the
/// retention are dropped, and it restores from the changelog the logging layer above it writes (key + 8-byte
/// big-endian window start + 4-byte sequence number, as Streamiz's own window stores do).
/// Only the stream thread that owns the task touches it (no interactive queries), so it takes no lock.
/// </summary>
public sealed class HashedWindowStore(string name, long retentionMs, long windowSizeMs) : IWindowStore<Bytes, byte[]>
{
    private const int ChangelogSuffix = 8 + 4;

    // Window start -> key -> aggregate. A handful of windows (retention / advance), each holding every active key.
    private readonly Dictionary<long, Dictionary<Bytes, byte[]>> _windows = [];
    private readonly List<long> _expired = [];
    private long _observedStreamTime = -1;
    private long _oldestWindow = long.MaxValue;

    public string Name => name;
    public bool Persistent => false;
    public bool IsLocally => true;
    public bool IsOpen { get; private set; }

    /// <summary>How many windows it holds (for tests: expiry must keep this bounded).</summary>
    internal int WindowCount => _windows.Count;

    public void Init(ProcessorContext context, IStateStore root)
    {
        if (root is not null)
        {
            context.Register(root, (key, value, _) =>
            {
                var raw = key.Get;
                long start = BinaryPrimitives.ReadInt64BigEndian(raw.AsSpan(raw.Length - ChangelogSuffix, 8));
                Put(Bytes.Wrap(raw.AsSpan(0, raw.Length - ChangelogSuffix).ToArray()), value, start);
            });
        }
        IsOpen = true;
    }

    public void Put(Bytes key, byte[] value, long windowStartTimestamp)
    {
        if (windowStartTimestamp > _observedStreamTime)
        {
            _observedStreamTime = windowStartTimestamp;
            Expire();
        }
        if (windowStartTimestamp <= _observedStreamTime - retentionMs) return; // already expired: nothing would read it
        if (value is null)
        {
            if (_windows.TryGetValue(windowStartTimestamp, out var w) && w.Remove(key) && w.Count == 0) _windows.Remove(windowStartTimestamp);
            return;
        }
        if (!_windows.TryGetValue(windowStartTimestamp, out var window))
        {
            _windows[windowStartTimestamp] = window = new Dictionary<Bytes, byte[]>(BytesContent.Comparer);
            if (windowStartTimestamp < _oldestWindow) _oldestWindow = windowStartTimestamp;
        }
        window[key] = value;
    }

    public byte[] Fetch(Bytes key, long time)
    {
        if (time <= _observedStreamTime - retentionMs) return null!;
        return _windows.TryGetValue(time, out var window) && window.TryGetValue(key, out var value) ? value : null!;
    }

    public IWindowStoreEnumerator<byte[]> Fetch(Bytes key, DateTime from, DateTime to) => Fetch(key, from.GetMilliseconds(), to.GetMilliseconds());

    public IWindowStoreEnumerator<byte[]> Fetch(Bytes key, long from, long to)
    {
        var found = new List<KeyValuePair<long, byte[]>>();
        foreach (var start in WindowsBetween(from, to))
        {
            if (_windows[start].TryGetValue(key, out var value)) found.Add(new(start, value));
        }
        return new WindowEnumerator(found);
    }

    public IKeyValueEnumerator<Windowed<Bytes>, byte[]> All() => Windowed(WindowsBetween(long.MinValue, long.MaxValue));

    public IKeyValueEnumerator<Windowed<Bytes>, byte[]> FetchAll(DateTime from, DateTime to)
        => Windowed(WindowsBetween(from.GetMilliseconds(), to.GetMilliseconds()));

    public void Flush()
    {
    }

    public void Close()
    {
        _windows.Clear();
        IsOpen = false;
    }

    private void Expire()
    {
        long cutoff = _observedStreamTime - retentionMs + 1;
        if (_oldestWindow >= cutoff) return;
        _expired.Clear();
        long oldest = long.MaxValue;
        foreach (var start in _windows.Keys)
        {
            if (start < cutoff) _expired.Add(start);
            else if (start < oldest) oldest = start;
        }
        foreach (var start in _expired) _windows.Remove(start);
        _oldestWindow = oldest;
    }

    private List<long> WindowsBetween(long from, long to)
    {
        from = Math.Max(from, _observedStreamTime - retentionMs + 1);
        var starts = new List<long>();
        foreach (var start in _windows.Keys)
        {
            if (start >= from && start <= to) starts.Add(start);
        }
        starts.Sort();
        return starts;
    }

    private KeyValueEnumerator<Windowed<Bytes>, byte[]> Windowed(List<long> starts)
    {
        var found = new List<KeyValuePair<Windowed<Bytes>, byte[]>>();
        foreach (var start in starts)
        {
            var window = new TimeWindow(start, start + windowSizeMs);
            foreach (var (key, value) in _windows[start]) found.Add(new(new Windowed<Bytes>(key, window), value));
        }
        return new KeyValueEnumerator<Windowed<Bytes>, byte[]>(found);
    }

    /// <summary>Compares keys by content without <see cref="Bytes.GetHashCode"/>, which builds a BigInteger per call.</summary>
    private sealed class BytesContent : IEqualityComparer<Bytes>
    {
        public static readonly BytesContent Comparer = new();

        public bool Equals(Bytes? x, Bytes? y)
            => ReferenceEquals(x, y) || (x is not null && y is not null && x.Get.AsSpan().SequenceEqual(y.Get));

        public int GetHashCode(Bytes obj)
        {
            var hash = new HashCode();
            hash.AddBytes(obj.Get);
            return hash.ToHashCode();
        }
    }

    /// <summary>A snapshot taken when the range was asked for: later writes do not show, as with Streamiz's own stores.</summary>
    private class KeyValueEnumerator<K, V>(List<KeyValuePair<K, V>> items) : IKeyValueEnumerator<K, V>
    {
        private int _next;

        public KeyValuePair<K, V>? Current { get; private set; }
        object? IEnumerator.Current => Current;

        public K PeekNextKey() => _next < items.Count ? items[_next].Key : throw new InvalidOperationException("no next key");

        public bool MoveNext()
        {
            if (_next >= items.Count)
            {
                Current = null;
                return false;
            }
            Current = items[_next++];
            return true;
        }

        public void Reset()
        {
            _next = 0;
            Current = null;
        }

        public void Dispose()
        {
        }
    }

    private sealed class WindowEnumerator(List<KeyValuePair<long, byte[]>> items) : KeyValueEnumerator<long, byte[]>(items), IWindowStoreEnumerator<byte[]>;
}

/// <summary>Supplies a <see cref="HashedWindowStore"/> per task, for <c>Materialized.Create(supplier)</c>.</summary>
public sealed class HashedWindowStoreSupplier(string name, TimeSpan retention, TimeSpan windowSize) : IWindowBytesStoreSupplier
{
    public string Name { get; set; } = name;
    public string MetricsScope => "hashed-in-memory-window";
    public long? WindowSize { get; set; } = (long)windowSize.TotalMilliseconds;
    public long Retention { get; set; } = (long)retention.TotalMilliseconds;
    public bool RetainDuplicates { get; set; }
    public long SegmentInterval { get; set; } = 1;

    public IWindowStore<Bytes, byte[]> Get() => new HashedWindowStore(Name, Retention, WindowSize ?? (long)windowSize.TotalMilliseconds);
}
