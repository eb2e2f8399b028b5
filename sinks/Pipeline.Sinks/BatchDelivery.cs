using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Topics;

namespace Pipeline.Sinks;

/// <summary>
/// Delivers one batch to a backend completely, written once for every backend (Serilog's BatchingSink
/// idea): records that failed transiently are retried alone with capped exponential backoff and jitter,
/// records rejected for good go to <c>ops.deadletter.v1</c>. It returns only when every record is
/// written or dead-lettered, so the caller may then commit the batch's offsets.
/// </summary>
public sealed class BatchDelivery(IBatchWriter writer, IProducer<byte[], byte[]> deadLetters, string host, TimeSpan giveUpAfter, ILogger logger)
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);

    public string Stage => "sinks." + writer.Name;

    public async Task DeliverAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellationToken)
    {
        IReadOnlyList<SinkRecord> pending = batch;
        int attempt = 0;
        var started = DateTime.UtcNow;
        while (pending.Count > 0)
        {
            var results = await writer.WriteAsync(pending, cancellationToken).ConfigureAwait(false);
            List<SinkRecord>? retry = null;
            string? lastError = null;
            for (int i = 0; i < pending.Count; i++)
            {
                var result = results[i];
                switch (result.Outcome)
                {
                    case ItemOutcome.Created:
                        Count("created", pending[i]);
                        break;
                    case ItemOutcome.Duplicate:
                        // Already indexed by an earlier attempt or run: the stable id did its job.
                        Count("duplicate", pending[i]);
                        break;
                    case ItemOutcome.Retry:
                        (retry ??= []).Add(pending[i]);
                        lastError = result.ErrorReason ?? result.ErrorType;
                        break;
                    case ItemOutcome.Rejected:
                        await DeadLetterAsync(pending[i], result).ConfigureAwait(false);
                        break;
                }
            }
            if (retry is null) return;
            PipelineMetrics.BulkItems.WithLabels(writer.Name, "retried").Inc(retry.Count);
            PipelineMetrics.DeliveryErrors.WithLabels(Stage, writer.Name).Inc();
            if (giveUpAfter > TimeSpan.Zero && DateTime.UtcNow - started > giveUpAfter)
                throw new SinkUnavailableException($"{writer.Name}: {retry.Count} records still failing after {giveUpAfter} ({lastError}); offsets not committed, they will be re-read");
            attempt++;
            var delay = Backoff(attempt);
            if (attempt == 1 || attempt % 10 == 0)
                logger.LogWarning("{Sink}: {Count} of {Total} records failed ({Error}); retrying only those in {Delay:0.0}s (attempt {Attempt}). Consumption is paused: lag grows in Kafka, not in memory",
                    writer.Name, retry.Count, batch.Count, lastError, delay.TotalSeconds, attempt);
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

    private void Count(string outcome, SinkRecord record)
    {
        PipelineMetrics.BulkItems.WithLabels(writer.Name, outcome).Inc();
        PipelineMetrics.EventsOut.WithLabels(Stage, record.Topic).Inc();
    }

    private async Task DeadLetterAsync(SinkRecord record, ItemResult result)
    {
        var reason = result.ErrorType ?? "rejected";
        var value = DeadLetters.Serialize(record.Value, record.Topic, record.Partition, record.Offset, Stage, reason,
            result.ErrorReason ?? reason, host, DateTimeOffset.UtcNow);
        // Awaited: the record's offset may only be committed once its dead letter is safely in Kafka.
        await deadLetters.ProduceAsync(TopicCatalog.DeadLetter.Name,
            new Message<byte[], byte[]> { Key = System.Text.Encoding.UTF8.GetBytes(host), Value = value }).ConfigureAwait(false);
        PipelineMetrics.BulkItems.WithLabels(writer.Name, "rejected").Inc();
        PipelineMetrics.DeadLetters.WithLabels(Stage, reason).Inc();
        logger.LogWarning("{Sink} rejected a record from {Topic}[{Partition}]@{Offset}: {Type}: {Reason}; sent to {DeadLetter}",
            writer.Name, record.Topic, record.Partition, record.Offset, reason, result.ErrorReason, TopicCatalog.DeadLetter.Name);
    }
}

/// <summary>The backend stayed unavailable past <c>sinks.give_up_after</c>.</summary>
public sealed class SinkUnavailableException(string message) : Exception(message);
