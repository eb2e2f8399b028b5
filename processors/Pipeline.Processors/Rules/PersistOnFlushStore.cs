using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.State.Enumerator;
using Streamiz.Kafka.Net.Table;

namespace Pipeline.Processors.Rules;

/// <summary>
/// A key-value store that lets its processor write what it keeps in memory just before the store is flushed.
/// Streamiz flushes every store of a task before it flushes the producer and commits the input offsets, so state
/// written from <see cref="BeforeFlush"/> reaches its changelog ahead of the offsets of the events that built it:
/// a restart never resumes past an event whose effect on the state was not saved. The evaluator keeps its groups in
/// memory and writes each changed group once per commit, instead of a changelog record behind every event.
/// (Streamiz's own store cache does the same coalescing, but serialises on every put and delays the evaluator's
/// reads; this keeps the objects live and serialises once.)
/// </summary>
internal sealed class PersistOnFlushStore(IKeyValueStore<string, byte[]> inner) : IKeyValueStore<string, byte[]>
{
    /// <summary>Called first in every <see cref="Flush"/>: on commit, and when the task closes.</summary>
    public Action? BeforeFlush { get; set; }

    public string Name => inner.Name;
    public bool Persistent => inner.Persistent;
    public bool IsLocally => inner.IsLocally;
    public bool IsOpen => inner.IsOpen;

    // This store, not the inner one, is the root Streamiz registers: it is what the task flushes and hands out.
    public void Init(ProcessorContext context, IStateStore root) => inner.Init(context, this);

    public void Flush()
    {
        BeforeFlush?.Invoke();
        inner.Flush();
    }

    public void Close() => inner.Close();
    public byte[] Get(string key) => inner.Get(key);
    public IKeyValueEnumerator<string, byte[]> Range(string from, string to) => inner.Range(from, to);
    public IKeyValueEnumerator<string, byte[]> ReverseRange(string from, string to) => inner.ReverseRange(from, to);
    public IEnumerable<KeyValuePair<string, byte[]>> All() => inner.All();
    public IEnumerable<KeyValuePair<string, byte[]>> ReverseAll() => inner.ReverseAll();
    public long ApproximateNumEntries() => inner.ApproximateNumEntries();
    public void Put(string key, byte[] value) => inner.Put(key, value);
    public byte[] PutIfAbsent(string key, byte[] value) => inner.PutIfAbsent(key, value);
    public void PutAll(IEnumerable<KeyValuePair<string, byte[]>> entries) => inner.PutAll(entries);
    public byte[] Delete(string key) => inner.Delete(key);
}

/// <summary>Builds a changelog-backed in-memory <see cref="PersistOnFlushStore"/>.</summary>
internal sealed class PersistOnFlushStoreBuilder(string name) : IStoreBuilder<PersistOnFlushStore>
{
    private readonly IStoreBuilder<IKeyValueStore<string, byte[]>> inner =
        Stores.KeyValueStoreBuilder(Stores.InMemoryKeyValueStore(name), new Streamiz.Kafka.Net.SerDes.StringSerDes(), new Streamiz.Kafka.Net.SerDes.ByteArraySerDes())
            .WithLoggingEnabled(null)
            .WithCachingDisabled();

    public bool IsWindowStore => inner.IsWindowStore;
    public long RetentionMs => inner.RetentionMs;
    public IDictionary<string, string> LogConfig => inner.LogConfig;
    public bool LoggingEnabled => inner.LoggingEnabled;
    public string Name => inner.Name;
    public CacheSize CacheSize => inner.CacheSize;

    public PersistOnFlushStore Build(IStreamConfig config) => new(inner.Build(config));
    IStateStore IStoreBuilder.Build(IStreamConfig config) => Build(config);

    // The store's shape is fixed: changelog on (it is the state's only durable copy), Streamiz's cache off.
    public IStoreBuilder<PersistOnFlushStore> WithCachingEnabled(CacheSize? cacheSize = null) => this;
    public IStoreBuilder<PersistOnFlushStore> WithCachingDisabled() => this;
    public IStoreBuilder<PersistOnFlushStore> WithLoggingEnabled(IDictionary<string, string> config) => this;
    public IStoreBuilder<PersistOnFlushStore> WithLoggingDisabled() => this;
    public void CacheExplicitlySet() { }
}
