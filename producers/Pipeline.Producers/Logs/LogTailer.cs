using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Filters;
using Pipeline.Plumbing.Kafka;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Topics;

namespace Pipeline.Producers.Logs;

/// <summary>
/// Tails the configured files into <c>ops.logs.v1</c>, the way Filebeat does: discovery by glob (woken
/// by inotify, backed by polling), identity by inode, and the read offset persisted only after Kafka
/// acknowledged the lines, so a restart continues where delivery stopped and nothing is skipped. Reading
/// pauses while too much waits for Kafka, so the files, not memory, hold the backlog. Inputs and filter
/// chains follow config reloads without a restart.
/// </summary>
public sealed class LogTailer : BackgroundService, ILineSink, IConfigReloadable
{
    private const string Stage = LogInputPlan.Stage;
    private const int LinesPerFileTurn = 2048;
    // How much a crash re-sends: what was acknowledged since the last write. Writes happen off the reading
    // thread and only when an offset moved, so a short interval costs little.
    private static readonly TimeSpan CheckpointEvery = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan RefreshSeenEvery = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan CloseInactive = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ForgetAfter = TimeSpan.FromDays(7);
    private static readonly TimeSpan NotifiedScanDelay = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan PausedWait = TimeSpan.FromMilliseconds(100);

    private readonly PipelineConfig _config;
    private readonly KafkaSettings _kafka;
    private readonly ILogger<LogTailer> _logger;
    private readonly Dictionary<FileIdentity, LogFileReader> _readers = [];
    private readonly List<LogFileReader> _readOrder = [];
    private readonly HashSet<FileIdentity> _unopenable = [];
    private readonly CheckpointStore _checkpoints;
    private readonly LogFileWatcher _watcher;
    private readonly AutoResetEvent _wake = new(false);
    private readonly byte[] _key;
    // The key of filtered events whose host.name a filter changed, kept while it stays the same host.
    private string? _filteredHost;
    private byte[] _filteredKey = [];
    private readonly string _host;
    private readonly int _maxValueBytes;
    private readonly Prometheus.Counter.Child _linesRead;
    private readonly Prometheus.Counter.Child _linesAcked;
    private readonly Prometheus.Counter.Child _deliveryErrors;
    private readonly Prometheus.Counter.Child _deadLettered;
    private volatile List<LogInput> _inputs = [];
    private LogInputPlan? _pendingPlan;
    private SpanProducer? _producer;
    private IntPtr _logsTopic;
    private IntPtr _deadLetterTopic;
    // Open files by slot: a record's delivery token is its file's slot and whether it is a dead letter, so
    // a report finds its file without a closure or handle per record. Replaced, never changed in place,
    // when it grows: the delivery thread reads it without a lock.
    private LogFileReader?[] _slots = new LogFileReader?[64];
    private readonly Stack<int> _freeSlots = [];
    private int _slotsUsed;
    private RegistryWriter _registryWriter = null!;
    private LogInput? _current;
    private long _maxInFlightBytes;
    private long _inFlightBytes;
    private long _linesDelivered;
    private long _logLinesAcked;
    private long _linesReadCount;
    private long _linesReadPublished;
    private long _linesAckedPublished;
    private readonly System.Buffers.ArrayBufferWriter<byte> _filteredBuffer = new(4096);
    private readonly System.Text.Json.Utf8JsonWriter _filteredWriter;
    // The read pass's span, started with its first record: one span per published batch, not per line.
    private Activity? _batchSpan;
    private Headers? _batchHeaders;
    private bool _batchStarted;
    private int _batchRecords;
    private int _readStart;
    private bool _paused;
    private bool _checkpointsDirty = true;

    public LogTailer(PipelineConfig config, KafkaSettings kafka, ILogger<LogTailer> logger)
    {
        _config = config;
        _kafka = kafka;
        _logger = logger;
        _host = config.EffectiveHostName;
        _key = System.Text.Encoding.UTF8.GetBytes(_host);
        _filteredWriter = new System.Text.Json.Utf8JsonWriter(_filteredBuffer, new System.Text.Json.JsonWriterOptions
        {
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        });
        // librdkafka refuses a record larger than message.max.bytes (1,000,000 by default, less than the
        // default max_line_bytes once JSON-encoded); leave room for the key and the record's framing.
        _maxValueBytes = (kafka.Producer("logs").MessageMaxBytes ?? 1_000_000) - _key.Length - 512;
        var plan = LogInputPlan.Build(config, []);
        foreach (var (input, chain) in plan.Inputs) input.Chain = chain;
        _inputs = plan.Inputs.ConvertAll(p => p.Input);
        _maxInFlightBytes = plan.MaxInFlightBytes;
        _checkpoints = CheckpointStore.OpenRegistry(config.DataDir, logger);
        _watcher = new LogFileWatcher(logger);
        _linesRead = PipelineMetrics.EventsIn.WithLabels(Stage, "files");
        _linesAcked = PipelineMetrics.EventsOut.WithLabels(Stage, TopicCatalog.Logs.Name);
        _deliveryErrors = PipelineMetrics.DeliveryErrors.WithLabels(Stage, TopicCatalog.Logs.Name);
        _deadLettered = PipelineMetrics.DeadLetters.WithLabels(Stage, "filter_error");
    }

    /// <summary>Lines Kafka has acknowledged since start.</summary>
    public long LinesDelivered => Interlocked.Read(ref _linesDelivered);

    /// <summary>Bytes of events sent to Kafka and not yet acknowledged.</summary>
    public long InFlightBytes => Interlocked.Read(ref _inFlightBytes);

    /// <summary>Config reloads applied (by the tailer thread) since start.</summary>
    public int ReloadsApplied { get; private set; }

    /// <summary>Directories watched for changes now.</summary>
    internal int Watched => _watcher.Count;

    /// <summary>For tests: turn file system notifications off, leaving only polling.</summary>
    internal bool NotificationsEnabled { get; init; } = true;

    bool ILineSink.Paused => Interlocked.Read(ref _inFlightBytes) >= Interlocked.Read(ref _maxInFlightBytes);

    /// <summary>
    /// Takes a changed config: the plan (filter chains, plugins) is built here, on the caller's thread,
    /// and throws if it cannot be; the tailer applies it between two reads.
    /// </summary>
    public Action Prepare(LoadedConfig loaded) => Prepare(loaded.Config);

    /// <summary>Builds and swaps in one go (tests; the <see cref="ConfigReloader"/> prepares every component first).</summary>
    public void Reload(PipelineConfig config) => Prepare(config)();

    private Action Prepare(PipelineConfig config)
    {
        // Builds the new inputs' filter chains: an invalid one throws here, before anything changes.
        var plan = LogInputPlan.Build(config, _inputs);
        return () =>
        {
            if (config.EffectiveHostName != _host) _logger.LogWarning("host_name changed to {Host}; it applies after a restart", config.EffectiveHostName);
            if (config.DataDir != _config.DataDir) _logger.LogWarning("data_dir changed to {DataDir}; it applies after a restart", config.DataDir);
            if (config.Kafka.Bootstrap != _config.Kafka.Bootstrap) _logger.LogWarning("kafka.bootstrap changed; it applies after a restart");
            // The tailer's loop takes the plan at its next turn.
            Interlocked.Exchange(ref _pendingPlan, plan);
            _wake.Set();
        };
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
        // Blocking file and producer calls: give the loop its own thread rather than a pool thread.
        => Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stop)
    {
        try
        {
            Loop(stop);
        }
        catch (Exception e)
        {
            // The host stops on a failed background service, but its own message is easy to miss: say what stopped and why.
            _logger.LogCritical(e, "the log tailer stopped on an unexpected error: {Error}; no more log lines are shipped", e.Message);
            throw;
        }
    }

    private void Loop(CancellationToken stop)
    {
        var producerConfig = _kafka.Producer("logs");
        _producer = new SpanProducer(producerConfig, _logger, OnDelivery);
        _logsTopic = _producer.Topic(TopicCatalog.Logs.Name);
        _deadLetterTopic = _producer.Topic(TopicCatalog.DeadLetter.Name);
        _logger.LogInformation("log tailer started: {Inputs} input(s), registry {Path}", _inputs.Count, _checkpoints.Path);
        _registryWriter = new RegistryWriter(_checkpoints, _logger);
        if (_checkpoints.MovedAside is not null) _registryWriter.Submit(_checkpoints.Snapshot());
        var lastScan = DateTime.MinValue;
        var lastCheckpoint = DateTime.UtcNow;
        var lastSeenRefresh = DateTime.UtcNow;
        bool notified = false;
        WaitHandle[] waits = [stop.WaitHandle, _wake, _watcher.Changed];
        try
        {
            while (!stop.IsCancellationRequested)
            {
                ApplyPendingPlan();
                var scanEvery = ScanInterval();
                var now = DateTime.UtcNow;
                if (now - lastScan >= scanEvery || (notified && now - lastScan >= NotifiedScanDelay))
                {
                    Discover();
                    if (NotificationsEnabled) _watcher.Watch(WatchRoots());
                    lastScan = now;
                    notified = false;
                }
                int lines = ReadAll(now);
                PublishCounts();
                StageProgress.Beat(StageProgress.LogTailer, caughtUp: lines == 0);
                if (now - lastCheckpoint >= CheckpointEvery)
                {
                    bool refresh = now - lastSeenRefresh >= RefreshSeenEvery;
                    SaveCheckpoints(refresh);
                    if (refresh) lastSeenRefresh = now;
                    lastCheckpoint = now;
                }
                if (lines > 0 && !_paused) continue;
                var wait = _paused ? PausedWait : notified ? NotifiedScanDelay : scanEvery;
                if (WaitHandle.WaitAny(waits, wait) == 2) notified = true;
            }
        }
        finally
        {
            Shutdown();
        }
    }

    private TimeSpan ScanInterval()
    {
        var inputs = _inputs;
        var every = TimeSpan.FromSeconds(1);
        for (int i = 0; i < inputs.Count; i++)
        {
            if (i == 0 || inputs[i].ScanInterval < every) every = inputs[i].ScanInterval;
        }
        return every;
    }

    private IEnumerable<(string Root, bool Recursive)> WatchRoots()
    {
        foreach (var input in _inputs)
        {
            foreach (var root in input.Discovery.WatchRoots) yield return root;
        }
    }

    private void ApplyPendingPlan()
    {
        var plan = Interlocked.Exchange(ref _pendingPlan, null);
        if (plan is null) return;
        foreach (var (input, chain) in plan.Inputs) input.Chain = chain;
        _inputs = plan.Inputs.ConvertAll(p => p.Input);
        Interlocked.Exchange(ref _maxInFlightBytes, plan.MaxInFlightBytes);
        int retired = 0;
        foreach (var reader in _readers.Values)
        {
            if (reader.Input is not null && plan.Removed.Contains(reader.Input) && !reader.Retired)
            {
                reader.Retired = true;
                retired++;
            }
        }
        ReloadsApplied++;
        _logger.LogInformation("config reloaded: {Inputs} input(s), {Added} added, {Removed} removed ({Files} file(s) closing)",
            _inputs.Count, plan.Added, plan.Removed.Count, retired);
    }

    private void Discover()
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
                    if (reader.Path != path) _checkpointsDirty = true;
                    reader.Path = path; // a rename keeps the identity
                    reader.LastSeen = DateTime.UtcNow;
                    continue;
                }
                Open(input, path, status.Value, input.FirstScan);
            }
            input.FirstScan = false;
        }
        OpenRenamedBeforeRead(seen);
        // Forget failures of files that are gone, so the set cannot grow without bound.
        if (_unopenable.Count > 0) _unopenable.IntersectWith(seen);
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

    /// <summary>
    /// A file that matched a glob but was renamed to a name no glob matches before any scan saw it (logrotate
    /// faster than the scan, or this thread starved): found through the watcher's rename events, read from
    /// its beginning like any new file, as a rotated file that closes once read to its end.
    /// </summary>
    private void OpenRenamedBeforeRead(HashSet<FileIdentity> seen)
    {
        while (_watcher.TryTakeRename(out var rename))
        {
            LogInput? from = null;
            foreach (var input in _inputs)
            {
                if (input.Discovery.Matches(rename.To)) { from = null; break; } // still matched: the scan has it
                if (from is null && input.Discovery.Matches(rename.From)) from = input;
            }
            if (from is null) continue;
            var status = FileIdentity.Of(rename.To);
            if (status is null || !seen.Add(status.Value.Identity) || _readers.ContainsKey(status.Value.Identity)) continue;
            Open(from, rename.To, status.Value, firstScan: false);
            if (_readers.TryGetValue(status.Value.Identity, out var reader))
            {
                reader.Rotated = true;
                _logger.LogInformation("{Path} was renamed from {From} before it was read; reading it to its end", rename.To, rename.From);
            }
        }
    }

    private void Open(LogInput input, string path, FileStatus status, bool firstScan)
    {
        if (!status.IsRegular)
        {
            // A FIFO would block the open until a writer appears; sockets and devices are not log files.
            if (_unopenable.Add(status.Identity)) _logger.LogWarning("skipping {Path}: not a regular file", path);
            return;
        }
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
            var reader = new LogFileReader(path, status, start, input.Config.MaxLineBytes, input.Encoding, input.CreateMultiline()) { Input = input };
            _readers[status.Identity] = reader;
            TakeSlot(reader);
            _readOrder.Add(reader);
            _unopenable.Remove(status.Identity);
            _checkpointsDirty = true;
            PipelineMetrics.FilesTailed.Set(_readers.Count);
            _logger.LogInformation("tailing {Path} from offset {Offset}", path, start);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Logged once per file, not at every scan; the open is retried quietly in case it is fixed.
            if (_unopenable.Add(status.Identity)) _logger.LogWarning("cannot open {Path}: {Error}; retrying quietly at every scan", path, e.Message);
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
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private int ReadAll(DateTime now)
    {
        int total = 0;
        List<LogFileReader>? closed = null;
        int count = _readOrder.Count;
        // Start at a different file each round, so under back-pressure no file waits behind the others forever.
        _readStart = count == 0 ? 0 : (_readStart + 1) % count;
        for (int k = 0; k < count; k++)
        {
            var reader = _readOrder[(_readStart + k) % count];
            if (reader.Retired)
            {
                // Its input was removed: send nothing more; close once Kafka has answered for what was sent
                // (the registry then holds what was acknowledged, and a new input resumes from there).
                if (reader.InFlight == 0) (closed ??= []).Add(reader);
                continue;
            }
            if (reader.DeliveryFailed)
            {
                _logger.LogWarning("delivery to Kafka failed for {Path}; re-sending from offset {Offset}", reader.Path, reader.AckedOffset);
                reader.RewindToAcked();
            }
            _current = reader.Input;
            int n;
            try
            {
                n = reader.ReadLines(this, LinesPerFileTurn, out bool truncated);
                if (truncated) _logger.LogWarning("{Path} was truncated (copytruncate); reading its new content from the start", reader.Path);
                reader.FlushIfIdle(this, now);
            }
            catch (IOException e)
            {
                _logger.LogWarning("reading {Path} failed: {Error}", reader.Path, e.Message);
                n = 0;
            }
            total += n;
            // Not while paused: a reader held back by back-pressure also returns 0 lines, and closing it then
            // would lose the rest of a rotated file. Only a reader that has read every byte may close.
            if (n == 0 && reader.Rotated && now - reader.LastActivity > CloseInactive && !((ILineSink)this).Paused && reader.AtEndOfFile)
            {
                reader.FlushPartialLine(this);
                // Close only once Kafka has answered for every line sent: a line that failed is sent again
                // from this handle, the only way left to a deleted file's content.
                if (reader.InFlight == 0 && !reader.DeliveryFailed) (closed ??= []).Add(reader);
            }
        }
        EndBatch();
        _paused = ((ILineSink)this).Paused;
        if (closed is not null)
        {
            foreach (var reader in closed)
            {
                Record(reader);
                _logger.LogInformation("closed {Path} ({Why})", reader.Path, reader.Retired ? "its input was removed" : "rotated away and inactive");
                reader.Dispose();
                _readers.Remove(reader.Identity);
                FreeSlot(reader);
                _readOrder.Remove(reader);
            }
            PipelineMetrics.FilesTailed.Set(_readers.Count);
        }
        return total;
    }

    void ILineSink.Emit(LogFileReader reader, ReadOnlySpan<byte> line, long offset, long ackOffset, LineFlags flags)
    {
        var input = _current!;
        var text = LogEventEncoder.Sanitize(line, ref flags);
        var now = DateTimeOffset.UtcNow;
        var value = input.Encoder.EncodeInPlace(text, offset, reader.Path, reader.IdentityText, now, flags);
        while (value.Length > _maxValueBytes && text.Length > 0)
        {
            // Too big for Kafka once encoded (escaping can grow a line several times): cut the line further.
            int keep = (int)(text.Length * ((double)_maxValueBytes / value.Length) * 0.98);
            text = text[..LogEventEncoder.Utf8Prefix(text, keep)];
            flags |= LineFlags.Truncated;
            value = input.Encoder.EncodeInPlace(text, offset, reader.Path, reader.IdentityText, now, flags);
        }
        if ((flags & LineFlags.Truncated) != 0) PipelineMetrics.LogLinesFlagged.WithLabels("truncated").Inc();
        if ((flags & LineFlags.InvalidUtf8) != 0) PipelineMetrics.LogLinesFlagged.WithLabels("invalid_utf8").Inc();
        _linesReadCount++;
        var chain = input.Chain;
        if (!chain.IsEmpty)
        {
            switch (Filter(chain, value, out var filtered, out var key, out var error))
            {
                case FilterOutcome.Drop:
                    // Nothing to send; the offset still advances, in order, once the lines before it are acknowledged.
                    reader.SkipTo(ackOffset);
                    return;
                case FilterOutcome.DeadLetter:
                    var deadLetter = DeadLetters.Serialize(value, "file:" + reader.Path, -1, offset, Stage, "filter_error", error ?? "filter failed", _host, now);
                    Produce(_deadLetterTopic, reader, _key, deadLetter, ackOffset, now, deadLetter: true);
                    _deadLettered.Inc();
                    return;
            }
            if (filtered)
            {
                Produce(_logsTopic, reader, key, _filteredBuffer.WrittenSpan, ackOffset, now, deadLetter: false);
                return;
            }
        }
        Produce(_logsTopic, reader, _key, value, ackOffset, now, deadLetter: false);
    }

    /// <summary>
    /// Runs the chain; <paramref name="filtered"/> says the changed event is in <see cref="_filteredBuffer"/>, otherwise send the
    /// original. <paramref name="key"/> is the changed event's record key.
    /// </summary>
    private FilterOutcome Filter(FilterChain chain, ReadOnlySpan<byte> value, out bool filtered, out byte[] key, out string? error)
    {
        filtered = false;
        key = _key;
        var e = FilterEvent.Parse(value);
        var outcome = chain.Run(e, out error, out bool failed);
        // A filter threw and its on_error is "pass": send the event unfiltered, not half-changed.
        if (outcome != FilterOutcome.Keep || failed) return outcome;
        // Written into a reused buffer, which librdkafka copies from: no array per event for the JSON text.
        _filteredBuffer.ResetWrittenCount();
        _filteredWriter.Reset(_filteredBuffer);
        e.Root.WriteTo(_filteredWriter);
        _filteredWriter.Flush();
        // A filter that grew the event past what Kafka takes would make it fail forever: send it unfiltered.
        if (_filteredBuffer.WrittenCount <= _maxValueBytes)
        {
            filtered = true;
            key = KeyOf(e);
        }
        else _logger.LogWarning("filters grew an event to {Size} bytes, more than Kafka takes; sending it unfiltered", _filteredBuffer.WrittenCount);
        return FilterOutcome.Keep;
    }

    /// <summary>
    /// The topic catalog keys logs by host.name, and the processors dead-letter a record keyed otherwise (key_mismatch):
    /// an edge filter that sets host.name (add_fields, rename) re-keys its events. Without a string host.name the key stays
    /// this host's, and the processors name the missing field.
    /// </summary>
    private byte[] KeyOf(FilterEvent e)
    {
        if (e.Root["host"] is not JsonObject host || host["name"] is not JsonValue name || name.GetValueKind() != JsonValueKind.String) return _key;
        var text = name.GetValue<string>();
        if (text == _host) return _key;
        if (text != _filteredHost)
        {
            _filteredHost = text;
            _filteredKey = System.Text.Encoding.UTF8.GetBytes(text);
        }
        return _filteredKey;
    }

    private void Produce(IntPtr topic, LogFileReader reader, byte[] key, ReadOnlySpan<byte> value, long ackOffset, DateTimeOffset now, bool deadLetter)
    {
        if (!_batchStarted) BeginBatch();
        if (_batchSpan is not null)
        {
            _batchRecords++;
            if (deadLetter) KeepBatch("deadletter");
            else if (_current?.Encoder.LastLevel is "error" or "fatal") KeepBatch("error");
        }
        reader.TrackProduced(ackOffset, deadLetter, value.Length);
        Interlocked.Add(ref _inFlightBytes, value.Length);
        long token = ((long)reader.Slot << 1) | (deadLetter ? 1L : 0L);
        long timestamp = now.ToUnixTimeMilliseconds();
        while (true)
        {
            // The batch's traceparent goes with each record (built once per batch; null when tracing is off or the batch is not sampled).
            var error = _producer!.Produce(topic, key, value, timestamp, token, _batchHeaders);
            if (error == ErrorCode.NoError) return;
            if (error == ErrorCode.Local_QueueFull)
            {
                // librdkafka's own queue is full: wait for acks instead of buffering without bound.
                _producer.WaitForReports(TimeSpan.FromMilliseconds(100));
                continue;
            }
            // Refused before it was queued: count it as a failed delivery, so the line is read and sent again.
            _logger.LogError("cannot send a line of {Path} to {Topic}: {Error}", reader.Path, deadLetter ? TopicCatalog.DeadLetter.Name : TopicCatalog.Logs.Name, error.GetReason());
            _deliveryErrors.Inc();
            Interlocked.Add(ref _inFlightBytes, -reader.OnDelivered(false, deadLetter));
            return;
        }
    }

    private void BeginBatch()
    {
        _batchStarted = true;
        _batchSpan = PipelineTracing.StartBatch("logs publish", ActivityKind.Producer);
        if (_batchSpan is null) return;
        _batchSpan.SetTag("messaging.system", "kafka");
        _batchSpan.SetTag("host.name", _host);
        _batchHeaders = PipelineTracing.HeadersFor(_batchSpan);
    }

    /// <summary>The batch carries an error line or a dead letter: keep its trace, and send the sampled traceparent from this record on.</summary>
    private void KeepBatch(string reason)
    {
        if (_batchSpan!.GetTagItem(PipelineTracing.KeepTag) is not null) return;
        bool wasSampled = _batchSpan.Recorded;
        PipelineTracing.Keep(_batchSpan, reason);
        if (!wasSampled) _batchHeaders = PipelineTracing.HeadersFor(_batchSpan);
    }

    private void EndBatch()
    {
        if (_batchSpan is not null)
        {
            _batchSpan.SetTag("messaging.batch.message_count", _batchRecords);
            _batchSpan.Dispose();
        }
        (_batchSpan, _batchHeaders, _batchStarted, _batchRecords) = (null, null, false, 0);
    }

    /// <summary>A record's delivery report, on the producer's poll thread.</summary>
    private void OnDelivery(long token, ErrorCode error)
    {
        var reader = Volatile.Read(ref _slots)[(int)(token >> 1)]!;
        bool deadLetter = (token & 1) != 0;
        bool ok = error == ErrorCode.NoError;
        long left = Interlocked.Add(ref _inFlightBytes, -reader.OnDelivered(ok, deadLetter));
        if (ok)
        {
            if (!deadLetter) Interlocked.Increment(ref _logLinesAcked);
            Interlocked.Increment(ref _linesDelivered);
        }
        else
        {
            _deliveryErrors.Inc();
        }
        // Wake a paused tailer once half the budget is free, not at every ack.
        if (Volatile.Read(ref _paused) && left <= Interlocked.Read(ref _maxInFlightBytes) / 2) _wake.Set();
    }

    private void TakeSlot(LogFileReader reader)
    {
        if (!_freeSlots.TryPop(out int slot))
        {
            slot = _slotsUsed++;
            if (slot == _slots.Length)
            {
                var grown = new LogFileReader?[_slots.Length * 2];
                _slots.CopyTo(grown, 0);
                Volatile.Write(ref _slots, grown);
            }
        }
        _slots[slot] = reader;
        reader.Slot = slot;
    }

    /// <summary>Only for a file closed with nothing in flight: no report can still name its slot.</summary>
    private void FreeSlot(LogFileReader reader)
    {
        _slots[reader.Slot] = null;
        _freeSlots.Push(reader.Slot);
        reader.Slot = -1;
    }

    /// <summary>Counted per line in plain fields; published to Prometheus once per pass, not once per line.</summary>
    private void PublishCounts()
    {
        // Deltas, not totals: the counters are per process, and tests run several tailers in one.
        long read = _linesReadCount, acked = Interlocked.Read(ref _logLinesAcked);
        if (read > _linesReadPublished) _linesRead.Inc(read - _linesReadPublished);
        if (acked > _linesAckedPublished) _linesAcked.Inc(acked - _linesAckedPublished);
        (_linesReadPublished, _linesAckedPublished) = (read, acked);
        PipelineMetrics.LogInFlightBytes.Set(Interlocked.Read(ref _inFlightBytes));
    }

    private void SaveCheckpoints(bool refreshSeen)
    {
        foreach (var reader in _readers.Values)
        {
            var existing = _checkpoints.Get(reader.IdentityText);
            if (refreshSeen || existing is null || existing.Offset != reader.AckedOffset || existing.Fingerprint != reader.Fingerprint || existing.Path != reader.Path)
            {
                Record(reader);
            }
        }
        if (refreshSeen) _checkpoints.Prune(DateTimeOffset.UtcNow, ForgetAfter);
        // Nothing moved: no write, no fsync (a thousand idle files would otherwise cost one every second).
        if (!_checkpointsDirty && !refreshSeen) return;
        _registryWriter.Submit(_checkpoints.Snapshot());
        _checkpointsDirty = false;
    }

    private void Record(LogFileReader reader)
    {
        _checkpoints.Set(new Checkpoint
        {
            Identity = reader.IdentityText,
            Path = reader.Path,
            Offset = reader.AckedOffset,
            Fingerprint = reader.Fingerprint,
            FingerprintLength = reader.FingerprintBytes,
            Seen = DateTimeOffset.UtcNow,
        });
        _checkpointsDirty = true;
    }

    private void Shutdown()
    {
        EndBatch();
        _watcher.Dispose();
        if (_producer is null) return;
        int remaining = _producer.Flush(TimeSpan.FromSeconds(30));
        PublishCounts();
        if (remaining > 0) _logger.LogWarning("{Count} log lines were not acknowledged by Kafka before shutdown; they will be re-read on the next start", remaining);
        foreach (var reader in _readers.Values) Record(reader);
        _checkpoints.Prune(DateTimeOffset.UtcNow, ForgetAfter);
        _registryWriter.Close(_checkpoints.Snapshot());
        _producer.Dispose();
        foreach (var reader in _readers.Values) reader.Dispose();
        _readers.Clear();
        _readOrder.Clear();
        _logger.LogInformation("log tailer stopped: {Lines} lines delivered, registry saved", LinesDelivered);
    }

    public override void Dispose()
    {
        base.Dispose();
        _wake.Dispose();
        _registryWriter?.Dispose();
    }
}
