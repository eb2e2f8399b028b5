using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Kafka;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Schemas.Topics;

namespace Pipeline.Producers.Logs;

/// <summary>
/// Tails the configured files into <c>ops.logs.v1</c>, the way Filebeat does: discovery by glob,
/// identity by inode, and the read offset persisted only after Kafka acknowledged the lines, so a
/// restart continues where delivery stopped and nothing is skipped.
/// </summary>
public sealed class LogTailer : BackgroundService, ILineSink
{
    private const string Stage = "producers.logs";
    private const int LinesPerFileTurn = 2048;
    private static readonly TimeSpan CheckpointEvery = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan CloseInactive = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ForgetAfter = TimeSpan.FromDays(7);

    private readonly PipelineConfig _config;
    private readonly KafkaSettings _kafka;
    private readonly ILogger<LogTailer> _logger;
    private readonly List<Input> _inputs = [];
    private readonly Dictionary<FileIdentity, LogFileReader> _readers = [];
    private readonly CheckpointStore _checkpoints;
    private readonly byte[] _key;
    private readonly int _maxValueBytes;
    private readonly Prometheus.Counter.Child _linesRead;
    private readonly Prometheus.Counter.Child _linesAcked;
    private readonly Prometheus.Counter.Child _deliveryErrors;
    private IProducer<byte[], byte[]>? _producer;
    private LogEventEncoder? _currentEncoder;
    private long _linesDelivered;

    public LogTailer(PipelineConfig config, KafkaSettings kafka, ILogger<LogTailer> logger)
    {
        _config = config;
        _kafka = kafka;
        _logger = logger;
        var host = config.EffectiveHostName;
        _key = System.Text.Encoding.UTF8.GetBytes(host);
        // librdkafka refuses a record larger than message.max.bytes (1,000,000 by default, less than the
        // default max_line_bytes once JSON-encoded); leave room for the key and the record's framing.
        _maxValueBytes = (kafka.Producer("logs").MessageMaxBytes ?? 1_000_000) - _key.Length - 512;
        var inputs = config.Logs.Inputs.Count > 0 ? config.Logs.Inputs : DefaultInputs();
        foreach (var input in inputs)
            _inputs.Add(new Input(input, new LogFileDiscovery(input), new LogEventEncoder(host, input.Fields, input.Tags), Duration.Parse(input.ScanInterval)));
        _checkpoints = new CheckpointStore(System.IO.Path.Combine(config.DataDir, "checkpoints", "logs.json"));
        _linesRead = PipelineMetrics.EventsIn.WithLabels(Stage, "files");
        _linesAcked = PipelineMetrics.EventsOut.WithLabels(Stage, TopicCatalog.Logs.Name);
        _deliveryErrors = PipelineMetrics.DeliveryErrors.WithLabels(Stage, TopicCatalog.Logs.Name);
    }

    /// <summary>Lines Kafka has acknowledged since start.</summary>
    public long LinesDelivered => Interlocked.Read(ref _linesDelivered);

    private static List<LogInputConfig> DefaultInputs() => [new LogInputConfig { Paths = ["/var/log/*.log", "/var/log/syslog"], StartAt = "end" }];

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
        // Blocking file and producer calls: give the loop its own thread rather than a pool thread.
        => Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stop)
    {
        _producer = new ProducerBuilder<byte[], byte[]>(_kafka.Producer("logs"))
            .SetErrorHandler((_, e) => _logger.LogWarning("kafka producer: {Reason} ({Code})", e.Reason, e.Code))
            .SetLogHandler(KafkaLog.To(_logger))
            .Build();
        _logger.LogInformation("log tailer started: {Inputs} input(s), checkpoints in {Path}", _inputs.Count, _checkpoints.Path);
        bool firstScan = true;
        var lastScan = DateTime.MinValue;
        var lastCheckpoint = DateTime.UtcNow;
        var scanEvery = _inputs.Count == 0 ? TimeSpan.FromSeconds(1) : _inputs.Min(i => i.ScanInterval);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var now = DateTime.UtcNow;
                if (now - lastScan >= scanEvery)
                {
                    Discover(firstScan);
                    firstScan = false;
                    lastScan = now;
                }
                int lines = ReadAll();
                StageProgress.Beat(StageProgress.LogTailer, caughtUp: lines == 0);
                if (now - lastCheckpoint >= CheckpointEvery)
                {
                    SaveCheckpoints();
                    lastCheckpoint = now;
                }
                if (lines == 0) stop.WaitHandle.WaitOne(scanEvery);
            }
        }
        finally
        {
            Shutdown();
        }
    }

    private void Discover(bool firstScan)
    {
        var seen = new HashSet<FileIdentity>();
        foreach (var input in _inputs)
        {
            foreach (var path in input.Discovery.Files())
            {
                var status = FileIdentity.Of(path);
                if (status is null) continue;
                var identity = status.Value.Identity;
                // Reached by two paths (symlink) in the same scan: read it once.
                if (!seen.Add(identity)) continue;
                if (_readers.TryGetValue(identity, out var reader))
                {
                    reader.Path = path; // a rename keeps the identity
                    reader.LastSeen = DateTime.UtcNow;
                    continue;
                }
                Open(input, path, status.Value, firstScan);
            }
        }
        foreach (var reader in _readers.Values)
        {
            if (reader.Rotated) continue;
            var now = FileIdentity.Of(reader.Path);
            if (now is null || now.Value.Identity != reader.Identity)
            {
                reader.Rotated = true;
                _logger.LogInformation("{Path} was rotated or deleted; reading the old file to its end", reader.Path);
            }
        }
    }

    private void Open(Input input, string path, FileStatus status, bool firstScan)
    {
        long start = 0;
        var checkpoint = _checkpoints.Get(status.Identity.ToString());
        if (checkpoint is not null && SameContent(path, checkpoint, status))
        {
            start = checkpoint.Offset;
        }
        else if (firstScan && input.Config.StartAt == "end")
        {
            // Only files present at startup start at their end; a file that appears later (a rotation's
            // new file) is read from its beginning, or its first lines would be lost.
            start = status.Size;
        }
        try
        {
            var reader = new LogFileReader(path, status, start, input.Config.MaxLineBytes) { Input = input };
            _readers[status.Identity] = reader;
            PipelineMetrics.FilesTailed.Set(_readers.Count);
            _logger.LogInformation("tailing {Path} from offset {Offset}", path, start);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("cannot open {Path}: {Error}", path, e.Message);
        }
    }

    private static bool SameContent(string path, Checkpoint checkpoint, FileStatus status)
    {
        if (checkpoint.Fingerprint is null || checkpoint.FingerprintLength == 0) return status.Size >= checkpoint.Offset;
        if (status.Size < checkpoint.FingerprintLength) return false;
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return LogFileReader.ComputeFingerprint(handle, checkpoint.FingerprintLength) == checkpoint.Fingerprint;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private int ReadAll()
    {
        int total = 0;
        List<FileIdentity>? closed = null;
        foreach (var reader in _readers.Values)
        {
            if (reader.DeliveryFailed)
            {
                _logger.LogWarning("delivery to Kafka failed for {Path}; re-sending from offset {Offset}", reader.Path, reader.AckedOffset);
                reader.RewindToAcked();
            }
            _currentEncoder = reader.Input!.Encoder;
            int n;
            try
            {
                n = reader.ReadLines(this, LinesPerFileTurn, out bool truncated);
                if (truncated) _logger.LogWarning("{Path} was truncated (copytruncate); reading its new content from the start", reader.Path);
            }
            catch (IOException e)
            {
                _logger.LogWarning("reading {Path} failed: {Error}", reader.Path, e.Message);
                n = 0;
            }
            total += n;
            if (n == 0 && reader.Rotated && DateTime.UtcNow - reader.LastActivity > CloseInactive)
            {
                reader.FlushPartialLine(this);
                // Close only once Kafka has answered for every line sent: a line that failed is sent again
                // from this handle, the only way left to a deleted file's content.
                if (reader.InFlight == 0 && !reader.DeliveryFailed) (closed ??= []).Add(reader.Identity);
            }
        }
        if (closed is not null)
        {
            foreach (var id in closed)
            {
                var reader = _readers[id];
                Record(reader);
                _logger.LogInformation("closed {Path} (rotated away and inactive)", reader.Path);
                reader.Dispose();
                _readers.Remove(id);
            }
            PipelineMetrics.FilesTailed.Set(_readers.Count);
        }
        return total;
    }

    void ILineSink.Emit(LogFileReader reader, ReadOnlySpan<byte> line, long offset, long ackOffset, LineFlags flags)
    {
        var text = LogEventEncoder.Sanitize(line, ref flags);
        var now = DateTimeOffset.UtcNow;
        var value = _currentEncoder!.Encode(text, offset, reader.Path, reader.IdentityText, now, flags);
        while (value.Length > _maxValueBytes && text.Length > 0)
        {
            // Too big for Kafka once encoded (escaping can grow a line several times): cut the line further.
            int keep = (int)(text.Length * ((double)_maxValueBytes / value.Length) * 0.98);
            text = text[..LogEventEncoder.Utf8Prefix(text, keep)];
            flags |= LineFlags.Truncated;
            value = _currentEncoder.Encode(text, offset, reader.Path, reader.IdentityText, now, flags);
        }
        if ((flags & LineFlags.Truncated) != 0) PipelineMetrics.LogLinesFlagged.WithLabels("truncated").Inc();
        if ((flags & LineFlags.InvalidUtf8) != 0) PipelineMetrics.LogLinesFlagged.WithLabels("invalid_utf8").Inc();
        var message = new Message<byte[], byte[]> { Key = _key, Value = value, Timestamp = new Timestamp(now) };
        reader.TrackProduced(ackOffset);
        _linesRead.Inc();
        while (true)
        {
            try
            {
                _producer!.Produce(TopicCatalog.Logs.Name, message, reader.DeliveryHandler ??= MakeHandler(reader));
                return;
            }
            catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                // Back-pressure: the local queue is full because Kafka is slow or away. Wait for acks
                // instead of buffering without bound.
                _producer!.Poll(TimeSpan.FromMilliseconds(100));
            }
        }
    }

    private Action<DeliveryReport<byte[], byte[]>> MakeHandler(LogFileReader reader) => report =>
    {
        bool ok = report.Error.Code == ErrorCode.NoError;
        reader.OnDelivered(ok);
        if (ok)
        {
            _linesAcked.Inc();
            Interlocked.Increment(ref _linesDelivered);
        }
        else
        {
            _deliveryErrors.Inc();
        }
    };

    private void SaveCheckpoints()
    {
        foreach (var reader in _readers.Values) Record(reader);
        _checkpoints.Prune(DateTimeOffset.UtcNow, ForgetAfter);
        try
        {
            _checkpoints.Save();
        }
        catch (IOException e)
        {
            _logger.LogError("cannot write log checkpoints to {Path}: {Error}; offsets will be re-read after a restart", _checkpoints.Path, e.Message);
        }
    }

    private void Record(LogFileReader reader) => _checkpoints.Set(new Checkpoint
    {
        Identity = reader.IdentityText,
        Path = reader.Path,
        Offset = reader.AckedOffset,
        Fingerprint = reader.Fingerprint,
        FingerprintLength = reader.FingerprintBytes,
        Seen = DateTimeOffset.UtcNow,
    });

    private void Shutdown()
    {
        if (_producer is null) return;
        int remaining = _producer.Flush(TimeSpan.FromSeconds(30));
        if (remaining > 0) _logger.LogWarning("{Count} log lines were not acknowledged by Kafka before shutdown; they will be re-read on the next start", remaining);
        SaveCheckpoints();
        _producer.Dispose();
        foreach (var reader in _readers.Values) reader.Dispose();
        _readers.Clear();
        _logger.LogInformation("log tailer stopped: {Lines} lines delivered, checkpoints saved", LinesDelivered);
    }

    internal sealed record Input(LogInputConfig Config, LogFileDiscovery Discovery, LogEventEncoder Encoder, TimeSpan ScanInterval);
}
