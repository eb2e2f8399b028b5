using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Kafka;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Schemas.Topics;

namespace Pipeline.Sinks;

/// <summary>
/// Consumes every event and alert topic and writes them to one backend in batches. Offsets are
/// committed only after the whole batch was written or dead-lettered; while the backend is down the
/// sink stops consuming, so the backlog waits in Kafka, not in memory. On shutdown it first drains
/// what is already in the topics (the embedded broker forgets everything when the process ends).
/// </summary>
public sealed class EventSink : BackgroundService
{
    private static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(20);

    private readonly PipelineConfig _config;
    private readonly KafkaSettings _kafka;
    private readonly IBatchWriter _writer;
    private readonly ILogger<EventSink> _logger;
    private readonly Dictionary<string, string> _streams = new(StringComparer.Ordinal);
    private readonly Dictionary<TopicPartition, long> _lastOffset = [];
    private volatile bool _draining;
    private DateTime _drainDeadline;

    public EventSink(PipelineConfig config, KafkaSettings kafka, IBatchWriter writer, ILogger<EventSink> logger)
    {
        _config = config;
        _kafka = kafka;
        _writer = writer;
        _logger = logger;
        foreach (var topic in TopicCatalog.All) _streams[topic.Name] = topic.DataStream(config.Elasticsearch.Namespace);
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
        using var consumer = new ConsumerBuilder<byte[], byte[]>(_kafka.Consumer("sink", _config.Sinks.GroupId))
            .SetErrorHandler((_, e) => _logger.LogWarning("kafka consumer: {Reason} ({Code})", e.Reason, e.Code))
            .SetLogHandler(KafkaLog.To(_logger))
            .Build();
        consumer.Subscribe(TopicCatalog.All.Select(t => t.Name));
        _logger.LogInformation("sink started: writing {Topics} to {Backend}", string.Join(", ", TopicCatalog.All.Select(t => t.Name)), _writer.Name);
        var batch = new List<SinkRecord>(_config.Sinks.BatchSize);
        var offsets = new Dictionary<TopicPartition, TopicPartitionOffset>();
        var linger = Duration.Parse(_config.Sinks.Linger);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                StageProgress.Beat(StageProgress.EventSink);
                var flushAt = DateTime.UtcNow + linger;
                while (batch.Count < _config.Sinks.BatchSize && DateTime.UtcNow < flushAt)
                {
                    var result = consumer.Consume(TimeSpan.FromMilliseconds(50));
                    if (result is null)
                    {
                        if (batch.Count == 0 && _draining) break;
                        continue;
                    }
                    if (result.IsPartitionEOF || result.Message is null) continue;
                    TrackGaps(result);
                    PipelineMetrics.EventsIn.WithLabels(delivery.Stage, result.Topic).Inc();
                    var value = result.Message.Value ?? [];
                    batch.Add(new SinkRecord(result.Topic, result.Partition.Value, result.Offset.Value, value,
                        DocumentIds.For(value), _streams.GetValueOrDefault(result.Topic, result.Topic)));
                    offsets[result.TopicPartition] = new TopicPartitionOffset(result.TopicPartition, result.Offset + 1);
                }
                if (batch.Count > 0)
                {
                    await delivery.DeliverAsync(batch, stop).ConfigureAwait(false);
                    consumer.Commit(offsets.Values);
                    Committed += batch.Count;
                    batch.Clear();
                    offsets.Clear();
                }
                else if (_draining && (CaughtUp(consumer) || DateTime.UtcNow > _drainDeadline))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            _logger.LogWarning("sink stopped with {Count} records unwritten; their offsets were not committed", batch.Count);
        }
        finally
        {
            consumer.Close();
            await _writer.DisposeAsync().ConfigureAwait(false);
            _logger.LogInformation("sink stopped: {Count} records written and committed", Committed);
        }
    }

    private bool CaughtUp(IConsumer<byte[], byte[]> consumer)
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
