using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Topics;
using Prometheus;

namespace Pipeline.Sinks;

/// <summary>
/// Delivers one batch to a backend completely, written once for every backend (Serilog's BatchingSink
/// idea): records that failed transiently are retried alone with capped exponential backoff and jitter,
/// records rejected for good go to <c>ops.deadletter.v1</c>. It returns only when every record is
/// written or dead-lettered, so the caller may then commit the batch's offsets. It is also the one place
/// that counts per-record outcomes, so no backend can count them twice. Safe to call for several batches at once.
/// </summary>
public sealed class BatchDelivery
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);

    private readonly IBatchWriter _writer;
    private readonly IProducer<byte[], byte[]> _deadLetters;
    private readonly string _host;
    private readonly TimeSpan _giveUpAfter;
    private readonly ILogger _logger;
    private readonly Counter.Child _created, _duplicate, _retried, _rejected, _retryRounds, _deliveryErrors;
    private readonly Histogram.Child _duration;
    // Filled once for the catalog's topics and only read afterwards, so concurrent deliveries can share it.
    private readonly Dictionary<string, Counter.Child> _eventsOut = new(StringComparer.Ordinal);

    public BatchDelivery(IBatchWriter writer, IProducer<byte[], byte[]> deadLetters, string host, TimeSpan giveUpAfter, ILogger logger)
    {
        _writer = writer;
        _deadLetters = deadLetters;
        _host = host;
        _giveUpAfter = giveUpAfter;
        _logger = logger;
        _created = PipelineMetrics.BulkItems.WithLabels(writer.Name, "created");
        _duplicate = PipelineMetrics.BulkItems.WithLabels(writer.Name, "duplicate");
        _retried = PipelineMetrics.BulkItems.WithLabels(writer.Name, "retried");
        _rejected = PipelineMetrics.BulkItems.WithLabels(writer.Name, "rejected");
        _retryRounds = PipelineMetrics.BulkRetries.WithLabels(writer.Name);
        _deliveryErrors = PipelineMetrics.DeliveryErrors.WithLabels(Stage, writer.Name);
        _duration = PipelineMetrics.BulkDuration.WithLabels(writer.Name);
        foreach (var topic in TopicCatalog.All) _eventsOut[topic.Name] = PipelineMetrics.EventsOut.WithLabels(Stage, topic.Name);
    }

    public string Stage => "sinks." + _writer.Name;

    public Task DeliverAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellationToken)
        => DeliverAsync(batch, null, cancellationToken);

    /// <summary>
    /// Delivers the batch under one span (while tracing is on): a child of the traces its records carry
    /// (<paramref name="trace"/>), kept and marked Error when any record failed or was dead-lettered.
    /// </summary>
    public async Task DeliverAsync(IReadOnlyList<SinkRecord> batch, BatchTrace? trace, CancellationToken cancellationToken)
    {
        using var span = PipelineTracing.StartBatch("sinks write", ActivityKind.Client, trace?.Parent ?? default, trace?.Links, trace?.KeepReason);
        if (span is null)
        {
            await DeliverBatchAsync(batch, null, cancellationToken).ConfigureAwait(false);
            return;
        }
        span.SetTag("pipeline.sink", _writer.Name);
        span.SetTag("messaging.batch.message_count", batch.Count);
        try
        {
            await DeliverBatchAsync(batch, span, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            PipelineTracing.Fail(span, e.Message, "write_failed");
            throw;
        }
    }

    private async Task DeliverBatchAsync(IReadOnlyList<SinkRecord> batch, Activity? span, CancellationToken cancellationToken)
    {
        IReadOnlyList<SinkRecord> pending = batch;
        int attempt = 0;
        var started = DateTime.UtcNow;
        while (pending.Count > 0)
        {
            var watch = Stopwatch.StartNew();
            var results = await _writer.WriteAsync(pending, cancellationToken).ConfigureAwait(false);
            _duration.Observe(watch.Elapsed.TotalSeconds);
            List<SinkRecord>? retry = null;
            string? lastError = null;
            for (int i = 0; i < pending.Count; i++)
            {
                var result = results[i];
                switch (result.Outcome)
                {
                    case ItemOutcome.Created:
                        Count(_created, pending[i]);
                        break;
                    case ItemOutcome.Duplicate:
                        // Already indexed by an earlier attempt or run: the stable id did its job.
                        Count(_duplicate, pending[i]);
                        break;
                    case ItemOutcome.Retry:
                        (retry ??= []).Add(pending[i]);
                        lastError = result.ErrorReason ?? result.ErrorType;
                        break;
                    case ItemOutcome.Rejected:
                        if (span is not null) PipelineTracing.Fail(span, $"{result.ErrorType}: {result.ErrorReason}", "deadletter");
                        await DeadLetterAsync(pending[i], result, span).ConfigureAwait(false);
                        break;
                }
            }
            if (retry is null) return;
            if (span is not null) PipelineTracing.Fail(span, $"{retry.Count} records failed: {lastError}", "write_failed");
            _retried.Inc(retry.Count);
            _retryRounds.Inc();
            _deliveryErrors.Inc();
            if (_giveUpAfter > TimeSpan.Zero && DateTime.UtcNow - started > _giveUpAfter)
                throw new SinkUnavailableException($"{_writer.Name}: {retry.Count} records still failing after {_giveUpAfter} ({lastError}); offsets not committed, they will be re-read");
            attempt++;
            var delay = Backoff(attempt);
            if (attempt == 1 || attempt % 10 == 0)
                _logger.LogWarning("{Sink}: {Count} of {Total} records failed ({Error}); retrying only those in {Delay:0.0}s (attempt {Attempt}). Consumption is paused once every in-flight batch waits: lag grows in Kafka, not in memory",
                    _writer.Name, retry.Count, batch.Count, lastError, delay.TotalSeconds, attempt);
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            StageProgress.Beat(StageProgress.EventSink); // waiting out a backend outage is progress, not a hang
            pending = retry;
        }
    }

    /// <summary>Capped exponential backoff with full jitter, as Elasticsearch recommends for 429s.</summary>
    public static TimeSpan Backoff(int attempt)
    {
        double cap = Math.Min(MaxDelay.TotalMilliseconds, FirstDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 16)));
        return TimeSpan.FromMilliseconds(cap / 2 + Random.Shared.NextDouble() * cap / 2);
    }

    private void Count(Counter.Child outcome, SinkRecord record)
    {
        outcome.Inc();
        (_eventsOut.GetValueOrDefault(record.Topic) ?? PipelineMetrics.EventsOut.WithLabels(Stage, record.Topic)).Inc();
    }

    private async Task DeadLetterAsync(SinkRecord record, ItemResult result, Activity? span)
    {
        var reason = result.ErrorType ?? "rejected";
        var value = DeadLetters.Serialize(record.Value, record.Topic, record.Partition, record.Offset, Stage, reason,
            result.ErrorReason ?? reason, _host, DateTimeOffset.UtcNow);
        // Awaited: the record's offset may only be committed once its dead letter is safely in Kafka.
        await _deadLetters.ProduceAsync(TopicCatalog.DeadLetter.Name,
            new Message<byte[], byte[]> { Key = System.Text.Encoding.UTF8.GetBytes(_host), Value = value, Headers = PipelineTracing.HeadersFor(span) }).ConfigureAwait(false);
        _rejected.Inc();
        PipelineMetrics.DeadLetters.WithLabels(Stage, reason).Inc();
        _logger.LogWarning("{Sink} rejected a record from {Topic}[{Partition}]@{Offset}: {Type}: {Reason}; sent to {DeadLetter}",
            _writer.Name, record.Topic, record.Partition, record.Offset, reason, result.ErrorReason, TopicCatalog.DeadLetter.Name);
    }
}

/// <summary>The backend stayed unavailable past <c>sinks.give_up_after</c>.</summary>
public sealed class SinkUnavailableException(string message) : Exception(message);
