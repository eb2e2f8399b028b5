using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Kafka;
using Pipeline.Producers.Logs;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;
using Pipeline.Schemas.Topics;
using Pipeline.Testing;

namespace Pipeline.Tests.Producers.Logs;

/// <summary>
/// One test's world: its own embedded broker, data_dir and log directory. Starts <see cref="LogTailer"/>s
/// in-process over them and reads back what reached <c>ops.logs.v1</c>, from the beginning of every partition.
/// </summary>
internal sealed class TailerHarness : IAsyncDisposable
{
    private readonly TempDirectory _dir = new("pipeline-tail");
    private readonly EmbeddedBroker _broker = new();
    private readonly TestOutputLogger<LogTailer> _logger;
    private readonly List<Received> _received = [];
    private IConsumer<byte[], byte[]>? _consumer;
    private LogTailer? _tailer;

    public TailerHarness(string hostName, Action<LogInputConfig>? configure = null)
    {
        _broker.CreateTopics();
        HostName = hostName;
        LogDir = System.IO.Path.Combine(_dir.Path, "logs");
        Directory.CreateDirectory(LogDir);
        Input = new LogInputConfig
        {
            Paths = [System.IO.Path.Combine(LogDir, "*.log")],
            StartAt = "beginning",
            ScanInterval = "100ms",
        };
        configure?.Invoke(Input);
        Config = new PipelineConfig
        {
            DataDir = System.IO.Path.Combine(_dir.Path, "data"),
            HostName = hostName,
            Logs = new LogsConfig { Inputs = [Input] },
        };
        // The producer's reconnect backoff grows to 10 s by default: keep it short so a broker that comes
        // back is noticed within the test's time.
        Config.Kafka.Properties["reconnect.backoff.max.ms"] = "250";
        _logger = new TestOutputLogger<LogTailer>(TestContext.Current.TestOutputHelper);
    }

    public string HostName { get; }

    /// <summary>A host name an edge filter gives this tailer's events, read as this tailer's too.</summary>
    public string? AlsoHostName { get; init; }
    public string LogDir { get; }
    public PipelineConfig Config { get; }
    public LogInputConfig Input { get; }
    public EmbeddedBroker Broker => _broker;
    public string CheckpointFile => CheckpointStore.RegistryPath(Config.DataDir);

    public string LogFile(string name) => System.IO.Path.Combine(LogDir, name);

    /// <summary>The running tailer, if any.</summary>
    public LogTailer? Tailer => _tailer;

    /// <summary>Every message the tailers logged so far, as "Level: text".</summary>
    public IReadOnlyList<string> LogMessages => _logger.Messages;

    public async Task StartTailerAsync(bool notifications = true)
    {
        if (_tailer is not null) throw new InvalidOperationException("a tailer is already running");
        var tailer = new LogTailer(Config, new KafkaSettings(Config.Kafka, _broker.Bootstrap, embedded: true), _logger) { NotificationsEnabled = notifications };
        await tailer.StartAsync(TestContext.Current.CancellationToken);
        _tailer = tailer;
    }

    public async Task StopTailerAsync()
    {
        if (_tailer is null) return;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await _tailer.StopAsync(timeout.Token);
        _tailer.Dispose();
        _tailer = null;
    }

    /// <summary>Consumes until <paramref name="done"/> holds for everything received so far, or fails at the deadline.</summary>
    public IReadOnlyList<Received> WaitFor(Func<IReadOnlyList<Received>, bool> done, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (!done(_received))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{what}: not reached within {timeout ?? TimeSpan.FromSeconds(15)}; received {_received.Count}:\n{Describe(_received)}");
            ConsumeFor(TimeSpan.FromMilliseconds(100));
        }
        return _received;
    }

    /// <summary>Waits until every one of <paramref name="messages"/> arrived (at least once).</summary>
    public IReadOnlyList<Received> WaitForMessages(params string[] messages)
        => WaitFor(r => messages.All(m => r.Any(e => e.Event.Message == m)), $"messages {string.Join(", ", messages)}");

    /// <summary>Keeps reading for a while, to catch records that should not come (duplicates, re-reads).</summary>
    public IReadOnlyList<Received> Settle(TimeSpan? period = null)
    {
        var until = DateTime.UtcNow + (period ?? TimeSpan.FromSeconds(1.5));
        while (DateTime.UtcNow < until) ConsumeFor(TimeSpan.FromMilliseconds(100));
        return _received;
    }

    public IReadOnlyList<Received> Received => _received;

    /// <summary>Everything on <paramref name="topic"/> now, from the beginning of every partition (values as text).</summary>
    public List<string> ReadTopic(string topic, TimeSpan? wait = null)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = _broker.Bootstrap,
            GroupId = "tail-test-topic-reader",
            EnableAutoCommit = false,
            FetchWaitMaxMs = 10,
            EnablePartitionEof = true,
        }).SetLogHandler((_, _) => { }).Build();
        var spec = TopicCatalog.ByName(topic) ?? throw new ArgumentException(topic);
        consumer.Assign(Enumerable.Range(0, spec.Partitions).Select(p => new TopicPartitionOffset(topic, new Partition(p), Offset.Beginning)));
        var values = new List<string>();
        int eofs = 0;
        var deadline = DateTime.UtcNow + (wait ?? TimeSpan.FromSeconds(5));
        while (eofs < spec.Partitions && DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (r is null) continue;
            if (r.IsPartitionEOF) eofs++;
            else values.Add(Encoding.UTF8.GetString(r.Message.Value));
        }
        consumer.Close();
        return values;
    }

    /// <summary>Consumes whatever has arrived, for tests that write faster than the broker keeps (about 5 MiB per partition).</summary>
    public void Drain() => ConsumeFor(TimeSpan.FromMilliseconds(20));

    /// <summary>The acknowledged offset the checkpoint file holds for <paramref name="path"/>'s current file, or null.</summary>
    public long? CheckpointOffset(string path)
    {
        var identity = FileIdentity.Of(path)?.Identity.ToString();
        if (identity is null || !File.Exists(CheckpointFile)) return null;
        return new CheckpointStore(CheckpointFile).Get(identity)?.Offset;
    }

    public static void Append(string path, string text) => File.AppendAllText(path, text, new UTF8Encoding(false));

    public static void AppendBytes(string path, byte[] bytes)
    {
        using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        stream.Write(bytes);
    }

    public static string Describe(IEnumerable<Received> received)
        => string.Join('\n', received.Select(r => $"  {r.Event.Log.File.Path}@{r.Event.Log.Offset}: {r.Event.Message}"));

    private void ConsumeFor(TimeSpan wait)
    {
        _consumer ??= CreateConsumer();
        var result = _consumer.Consume(wait);
        while (result is not null)
        {
            if (!result.IsPartitionEOF) Add(result);
            result = _consumer.Consume(TimeSpan.Zero);
        }
    }

    private void Add(ConsumeResult<byte[], byte[]> result)
    {
        var json = Encoding.UTF8.GetString(result.Message.Value);
        var e = System.Text.Json.JsonSerializer.Deserialize(json, EventJsonContext.Default.LogEvent)
            ?? throw new InvalidDataException($"null LogEvent: {json}");
        // Every test has its own broker; the host name check guards against a mix-up anyway.
        if (e.Host.Name != HostName && e.Host.Name != AlsoHostName) return;
        _received.Add(new Received(e, json, Encoding.UTF8.GetString(result.Message.Key)));
    }

    private IConsumer<byte[], byte[]> CreateConsumer()
    {
        var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = _broker.Bootstrap,
            GroupId = "tail-test-reader",
            EnableAutoCommit = false,
            FetchWaitMaxMs = 10,
            ReconnectBackoffMaxMs = 250,
        })
            // Connection errors while a test holds the broker down are expected; keep them out of stderr.
            .SetLogHandler((_, _) => { })
            .SetErrorHandler((_, _) => { })
            .Build();
        consumer.Assign(Enumerable.Range(0, TopicCatalog.Logs.Partitions)
            .Select(p => new TopicPartitionOffset(TopicCatalog.Logs.Name, new Partition(p), Offset.Beginning)));
        return consumer;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopTailerAsync();
        }
        finally
        {
            _consumer?.Close();
            _consumer?.Dispose();
            _broker.Dispose();
            _dir.Dispose();
        }
    }
}

/// <summary>One record read back: the event, its JSON as sent, and its Kafka key.</summary>
internal sealed record Received(LogEvent Event, string Json, string Key);
