using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Kafka;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Schemas.Topics;
using Prometheus;

namespace Pipeline.Sinks;

/// <summary>
/// Consumes every event and alert topic and writes them to one backend in batches, closed by count, bytes or linger,
/// with up to <c>sinks.in_flight</c> of them being written at once. A partition's offset is committed only when every
/// record up to it is written or dead-lettered (<see cref="DeliveryWindow"/>). When every slot is taken, because the
/// backend is slow or down, the sink pauses its partitions and only polls to stay in the group: the backlog waits in
/// Kafka, not in memory. On shutdown it first drains what is already in the topics (the embedded broker forgets
/// everything when the process ends).
/// </summary>
public sealed class EventSink : BackgroundService
{
    /// <summary>
    /// What librdkafka may prefetch for this consumer, in KiB (its default is 64 MiB). Part of the sink's memory bound:
    /// about <c>(in_flight + 1) * max_bytes</c> of batches plus this.
    /// </summary>
    public const int PrefetchKilobytes = 16 * 1024;

    private static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan LagInterval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan SlotPatience = TimeSpan.FromSeconds(1);

    private readonly PipelineConfig _config;
    private readonly KafkaSettings _kafka;
    private readonly IBatchWriter _writer;
    private readonly ILogger<EventSink> _logger;
    private readonly Dictionary<string, string> _streams = new(StringComparer.Ordinal);
    private readonly Dictionary<TopicPartition, long> _lastOffset = [];
    private readonly Dictionary<string, Counter.Child> _eventsIn = new(StringComparer.Ordinal);
    private readonly Dictionary<TopicPartition, long> _commit = [];
    private readonly int _batchSize;
    private readonly long _maxBytes;
    private readonly TimeSpan _linger;
    private readonly DeliveryWindow _window;
    private readonly Gauge.Child _spool;
    private readonly Gauge.Child _inFlight;
    private readonly ConsumerLagGauge _lag;
    private volatile bool _draining;
    private bool _assignmentChanged;
    private long _windowBytes;
    private long _windowRecords;
    private DateTime _drainDeadline;

    public EventSink(PipelineConfig config, KafkaSettings kafka, IBatchWriter writer, ILogger<EventSink> logger)
    {
        _config = config;
        _kafka = kafka;
        _writer = writer;
        _logger = logger;
        _batchSize = config.Sinks.BatchSize;
        _maxBytes = config.Sinks.MaxBytes;
        _linger = Duration.Parse(config.Sinks.Linger);
        _window = new DeliveryWindow(config.Sinks.InFlight);
        _spool = PipelineMetrics.SinkBufferedBytes.WithLabels(writer.Name);
        _inFlight = PipelineMetrics.BatchesInFlight.WithLabels(writer.Name);
        _lag = new ConsumerLagGauge("sinks." + writer.Name);
        foreach (var topic in TopicCatalog.All)
        {
            _streams[topic.Name] = topic.DataStream(config.Elasticsearch.Namespace);
            _eventsIn[topic.Name] = PipelineMetrics.EventsIn.WithLabels("sinks." + writer.Name, topic.Name);
        }
    }

    /// <summary>Records written or dead-lettered and committed since start.</summary>
    public long Committed { get; private set; }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Finish what is in the topics before stopping; the base class then cancels if this takes too long.
        _drainDeadline = DateTime.UtcNow + DrainLimit;
        _draining = true;
        if (ExecuteTask is not null)
        {
            await Task.WhenAny(ExecuteTask, Task.Delay(DrainLimit + TimeSpan.FromSeconds(5), cancellationToken)).ConfigureAwait(false);
        }
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
        => Task.Factory.StartNew(() => RunAsync(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

    private async Task RunAsync(CancellationToken stop)
    {
        await _writer.InitializeAsync(stop).ConfigureAwait(false);
        using var deadLetters = new ProducerBuilder<byte[], byte[]>(_kafka.Producer("sink-deadletter")).SetLogHandler(KafkaLog.To(_logger)).Build();
        var delivery = new BatchDelivery(_writer, deadLetters, _config.EffectiveHostName, Duration.Parse(_config.Sinks.GiveUpAfter), _logger);
        var consumerConfig = _kafka.Consumer("sink", _config.Sinks.GroupId);
        consumerConfig.QueuedMaxMessagesKbytes = PrefetchKilobytes;
        using var consumer = new ConsumerBuilder<byte[], byte[]>(consumerConfig)
            .SetErrorHandler((_, e) => _logger.LogWarning("kafka consumer: {Reason} ({Code})", e.Reason, e.Code))
            .SetLogHandler(KafkaLog.To(_logger))
            .SetPartitionsAssignedHandler((_, _) => _assignmentChanged = true)
            .SetPartitionsRevokedHandler(OnRevoked)
            .Build();
        consumer.Subscribe(TopicCatalog.All.Select(t => t.Name));
        _logger.LogInformation("sink started: writing {Topics} to {Backend} in batches of up to {Count} records or {Bytes} bytes, {InFlight} in flight",
            string.Join(", ", TopicCatalog.All.Select(t => t.Name)), _writer.Name, _batchSize, _maxBytes, _config.Sinks.InFlight);

        // Cancelled on the way out, so batches still retrying stop before their producer and writer are disposed.
        using var deliveries = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var batch = new PendingBatch(_batchSize);
        var nextLag = DateTime.UtcNow;
        bool idle = false;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                StageProgress.Beat(StageProgress.EventSink);
                Release(consumer);
                var now = DateTime.UtcNow;
                if (now >= nextLag)
                {
                    _lag.Update(consumer, askBroker: false);
                    UpdateSpool(batch);
                    nextLag = now + LagInterval;
                }
                if (batch.IsFull(_batchSize, _maxBytes) || batch.HasLingered(_linger, now) || (_draining && idle && batch.Count > 0))
                {
                    if (_window.IsFull)
                    {
                        WaitForAFreeSlot(consumer, batch, stop);
                        continue;
                    }
                    Dispatch(batch, delivery, deliveries.Token);
                    batch = new PendingBatch(_batchSize);
                    continue;
                }
                if (_draining && idle && batch.Count == 0 && _window.IsEmpty && (DateTime.UtcNow > _drainDeadline || CaughtUp(consumer))) break;

                var result = consumer.Consume(PollInterval);
                idle = result is null;
                if (result is null || result.IsPartitionEOF || result.Message is null) continue;
                Add(batch, result);
            }
            // Stopping: what is in flight still gets its chance to finish and be committed.
            PauseAll(consumer);
            while (!_window.IsEmpty && !stop.IsCancellationRequested)
            {
                consumer.Consume(PollInterval);
                Release(consumer);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            _logger.LogWarning("sink stopped with {Count} records unwritten; their offsets were not committed", batch.Count + _windowRecords);
        }
        finally
        {
            await deliveries.CancelAsync().ConfigureAwait(false);
            try { Task.WaitAll(_window.InFlight(), TimeSpan.FromSeconds(5)); }
            catch (AggregateException) { } // cancelled or failed: either way not committed
            _lag.ForgetAll();
            _spool.Set(0);
            _inFlight.Set(0);
            consumer.Close();
            await _writer.DisposeAsync().ConfigureAwait(false);
            _logger.LogInformation("sink stopped: {Count} records written and committed", Committed);
        }
    }

    private void Add(PendingBatch batch, ConsumeResult<byte[], byte[]> result)
    {
        TrackGaps(result);
        (_eventsIn.GetValueOrDefault(result.Topic) ?? PipelineMetrics.EventsIn.WithLabels("sinks." + _writer.Name, result.Topic)).Inc();
        var value = result.Message.Value ?? [];
        if (PipelineTracing.Enabled) batch.Observe(result.Message.Headers, result.Topic);
        batch.Add(result.TopicPartition, new SinkRecord(result.Topic, result.Partition.Value, result.Offset.Value, value,
            DocumentIds.For(value), _streams.GetValueOrDefault(result.Topic, result.Topic)), DateTime.UtcNow);
    }

    private void Dispatch(PendingBatch batch, BatchDelivery delivery, CancellationToken cancellationToken)
    {
        var records = batch.Records;
        var trace = batch.Trace;
        _window.Add(batch, Task.Run(() => delivery.DeliverAsync(records, trace, cancellationToken), cancellationToken));
        _windowBytes += batch.Bytes;
        _windowRecords += batch.Count;
        _inFlight.Set(_window.Count);
        _spool.Set(_windowBytes);
    }

    /// <summary>
    /// Every slot is taken. If none frees within a second the backend is slow or down: stop fetching (pause) but keep
    /// polling, which keeps the consumer in its group (max.poll.interval.ms) and runs rebalances, until a batch
    /// finishes. The lag this builds up is in Kafka.
    /// </summary>
    private void WaitForAFreeSlot(IConsumer<byte[], byte[]> consumer, PendingBatch batch, CancellationToken stop)
    {
        // A healthy backend frees a slot within one request's time: wait for that without pausing. Pausing throws away
        // what librdkafka prefetched (bounded by PrefetchKilobytes) and resuming costs a fetch round, which measured as
        // ~0.35 s per batch when it happened on every batch (bench/RESULTS.md).
        try { _window.WhenAnyFinishedAsync(SlotPatience).Wait(stop); }
        catch (OperationCanceledException) { return; }
        Release(consumer);
        if (!_window.IsFull) return;

        PauseAll(consumer);
        var nextLag = DateTime.UtcNow;
        try
        {
            while (_window.IsFull && !stop.IsCancellationRequested)
            {
                var stray = consumer.Consume(PollInterval);
                // Only a partition assigned since the pause can deliver here; its few records join the waiting batch.
                if (stray is { IsPartitionEOF: false, Message: not null }) Add(batch, stray);
                if (_assignmentChanged) PauseAll(consumer);
                if (DateTime.UtcNow >= nextLag)
                {
                    _lag.Update(consumer, askBroker: true);
                    UpdateSpool(batch);
                    nextLag = DateTime.UtcNow + LagInterval;
                }
                Release(consumer);
            }
        }
        finally
        {
            if (!stop.IsCancellationRequested) consumer.Resume(consumer.Assignment);
        }
    }

    private void PauseAll(IConsumer<byte[], byte[]> consumer)
    {
        _assignmentChanged = false;
        consumer.Pause(consumer.Assignment);
    }

    /// <summary>Commits the offsets of the batches that finished, oldest first, for partitions this consumer still owns.</summary>
    private void Release(IConsumer<byte[], byte[]> consumer)
    {
        var finished = _window.TakeFinished(_commit);
        if (finished.Count == 0) return;
        long records = 0;
        foreach (var done in finished)
        {
            records += done.Count;
            _windowBytes -= done.Bytes;
            _windowRecords -= done.Count;
        }
        _inFlight.Set(_window.Count);
        _spool.Set(_windowBytes);
        Commit(consumer);
        Committed += records;
    }

    private void Commit(IConsumer<byte[], byte[]> consumer)
    {
        if (_commit.Count == 0) return;
        var owned = consumer.Assignment;
        var offsets = new List<TopicPartitionOffset>(_commit.Count);
        foreach (var (partition, next) in _commit)
        {
            // A partition revoked meanwhile belongs to another member now, which re-reads from the last commit: at worst
            // it sends some documents again, and their ids make Elasticsearch answer 409.
            if (owned.Contains(partition)) offsets.Add(new TopicPartitionOffset(partition, next));
        }
        _commit.Clear();
        if (offsets.Count == 0) return;
        try
        {
            consumer.Commit(offsets);
        }
        catch (KafkaException e)
        {
            _logger.LogWarning("committing sink offsets failed ({Reason}); those records will be read again and answered 409 by Elasticsearch", e.Error.Reason);
        }
    }

    private void OnRevoked(IConsumer<byte[], byte[]> consumer, List<TopicPartitionOffset> revoked)
    {
        // Still the owner inside this callback: commit what is finished so the next owner starts from there.
        Release(consumer);
        Commit(consumer);
        var partitions = revoked.Select(p => p.TopicPartition).ToList();
        _lag.Forget(partitions);
        foreach (var tp in partitions) _lastOffset.Remove(tp);
    }

    private void UpdateSpool(PendingBatch batch) => _spool.Set(_windowBytes + batch.Bytes);

    private static bool CaughtUp(IConsumer<byte[], byte[]> consumer)
    {
        foreach (var tp in consumer.Assignment)
        {
            var position = consumer.Position(tp);
            var high = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(2)).High;
            if (high.Value > 0 && (position == Offset.Unset || position.Value < high.Value)) return false;
        }
        return true;
    }

    // The embedded broker keeps only a few MiB per partition; a consumer that falls behind loses records
    // silently unless someone counts the jump in offsets. So count it, loudly.
    private void TrackGaps(ConsumeResult<byte[], byte[]> result)
    {
        var tp = result.TopicPartition;
        if (_lastOffset.TryGetValue(tp, out var last) && result.Offset.Value > last + 1)
        {
            long lost = result.Offset.Value - last - 1;
            PipelineMetrics.LostRecords.WithLabels("sinks", result.Topic).Inc(lost);
            _logger.LogError("{Lost} records of {Topic}[{Partition}] were gone before the sink read them (offsets {From}-{To}); the broker dropped them (embedded broker retention?)",
                lost, result.Topic, result.Partition.Value, last + 1, result.Offset.Value - 1);
        }
        _lastOffset[tp] = result.Offset.Value;
    }
}
