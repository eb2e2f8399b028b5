using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Kafka;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;
using Pipeline.Schemas.Topics;

namespace Pipeline.Sinks.Alerts;

/// <summary>
/// Consumes <c>ops.alerts.v1</c> in its own consumer group and delivers each state change to every
/// configured Alertmanager and webhook. Offsets are committed only once every target accepted the
/// batch or was given up on (counted and logged; webhooks then dead-letter the alert). Firing alerts
/// are re-sent to Alertmanager on an interval shorter than its resolve_timeout.
/// </summary>
public sealed class AlertForwarder(PipelineConfig config, KafkaSettings kafka, IReadOnlyList<IAlertTarget> targets, ILogger<AlertForwarder> logger)
    : BackgroundService
{
    private const string Stage = "sinks.alerts";
    private readonly TimeSpan _giveUpAfter = Duration.Parse(config.Alerts.GiveUpAfter);
    private readonly TimeSpan _resendInterval = Duration.Parse(config.Alerts.ResendInterval);
    private readonly FiringAlertStore _firing = new(Path.Combine(config.DataDir, "alerts", "firing.json"));

    public static IReadOnlyList<IAlertTarget> TargetsFrom(AlertsConfig alerts)
    {
        var list = new List<IAlertTarget>();
        foreach (var am in alerts.Alertmanager) list.Add(new AlertmanagerTarget(am));
        foreach (var hook in alerts.Webhooks) list.Add(new WebhookTarget(hook));
        return list;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
        => Task.Factory.StartNew(() => RunAsync(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

    private async Task RunAsync(CancellationToken stop)
    {
        using var deadLetters = new ProducerBuilder<byte[], byte[]>(kafka.Producer("alerts-deadletter")).SetLogHandler(KafkaLog.To(logger)).Build();
        using var consumer = new ConsumerBuilder<byte[], byte[]>(kafka.Consumer("alerts", config.Alerts.GroupId))
            .SetLogHandler(KafkaLog.To(logger))
            .SetErrorHandler((_, e) => logger.LogWarning("kafka consumer: {Reason} ({Code})", e.Reason, e.Code))
            .Build();
        consumer.Subscribe(TopicCatalog.Alerts.Name);
        logger.LogInformation("alert forwarder started: {Targets}", string.Join(", ", targets.Select(t => t.Name)));
        var batch = new List<ForwardedAlert>();
        var offsets = new Dictionary<TopicPartition, TopicPartitionOffset>();
        var lastResend = DateTime.UtcNow;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var until = DateTime.UtcNow.AddMilliseconds(200);
                while (batch.Count < 100 && DateTime.UtcNow < until)
                {
                    var r = consumer.Consume(TimeSpan.FromMilliseconds(50));
                    if (r?.Message?.Value is null) continue;
                    offsets[r.TopicPartition] = new TopicPartitionOffset(r.TopicPartition, r.Offset + 1);
                    try
                    {
                        batch.Add(new ForwardedAlert(EventSerializer.Deserialize(r.Message.Value, EventJsonContext.Default.AlertEvent), r.Message.Value, r.Topic, r.Partition.Value, r.Offset.Value));
                    }
                    catch (JsonException e)
                    {
                        await DeadLetterAsync(deadLetters, new ForwardedAlert(null!, r.Message.Value, r.Topic, r.Partition.Value, r.Offset.Value), "invalid_alert", e.Message).ConfigureAwait(false);
                    }
                }
                if (batch.Count > 0)
                {
                    foreach (var target in targets) await DeliverAsync(target, batch, deadLetters, stop).ConfigureAwait(false);
                    foreach (var a in batch) _firing.Apply(a);
                    _firing.Save();
                    PipelineMetrics.AlertsForwardedFiring.Set(_firing.Count);
                    consumer.Commit(offsets.Values);
                    batch.Clear();
                    offsets.Clear();
                }
                else if (offsets.Count > 0)
                {
                    consumer.Commit(offsets.Values); // only unreadable records, already dead-lettered
                    offsets.Clear();
                }
                if (DateTime.UtcNow - lastResend >= _resendInterval)
                {
                    lastResend = DateTime.UtcNow;
                    await ResendFiringAsync(stop).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            logger.LogInformation("alert forwarder stopping with {Count} alerts undelivered; they will be delivered after the restart", batch.Count);
        }
        finally
        {
            consumer.Close();
            foreach (var t in targets) t.Dispose();
        }
    }

    private async Task DeliverAsync(IAlertTarget target, List<ForwardedAlert> batch, IProducer<byte[], byte[]> deadLetters, CancellationToken stop)
    {
        var started = DateTime.UtcNow;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await target.SendAsync(batch, stop).ConfigureAwait(false);
                PipelineMetrics.AlertDeliveries.WithLabels(Kind(target), "delivered").Inc(batch.Count);
                if (attempt > 1) logger.LogInformation("{Target} accepted {Count} alert(s) after {Attempts} attempts", target.Name, batch.Count, attempt);
                return;
            }
            catch (Exception e) when (e is AlertDeliveryException or HttpRequestException or TaskCanceledException && !stop.IsCancellationRequested)
            {
                PipelineMetrics.AlertDeliveries.WithLabels(Kind(target), "retried").Inc(batch.Count);
                if (DateTime.UtcNow - started >= _giveUpAfter)
                {
                    PipelineMetrics.AlertDeliveries.WithLabels(Kind(target), "gave_up").Inc(batch.Count);
                    logger.LogError("giving up on {Target} after {Elapsed}: {Error}; {Count} alert(s) not delivered there", target.Name, _giveUpAfter, e.Message, batch.Count);
                    if (target is WebhookTarget)
                    {
                        foreach (var a in batch) await DeadLetterAsync(deadLetters, a, "webhook_gave_up", e.Message).ConfigureAwait(false);
                    }
                    return;
                }
                var delay = BatchDelivery.Backoff(attempt);
                if (attempt == 1 || attempt % 10 == 0)
                    logger.LogWarning("{Target} did not take {Count} alert(s): {Error}; retrying in {Delay:0.0}s (attempt {Attempt}); offsets wait",
                        target.Name, batch.Count, e.Message, delay.TotalSeconds, attempt);
                await Task.Delay(delay, stop).ConfigureAwait(false);
            }
        }
    }

    private async Task ResendFiringAsync(CancellationToken stop)
    {
        var firing = _firing.Firing();
        if (firing.Count == 0) return;
        foreach (var target in targets)
        {
            if (!target.WantsResend) continue;
            try
            {
                await target.SendAsync(firing, stop).ConfigureAwait(false);
            }
            catch (Exception e) when (e is AlertDeliveryException or HttpRequestException or TaskCanceledException && !stop.IsCancellationRequested)
            {
                logger.LogWarning("re-sending {Count} firing alert(s) to {Target} failed: {Error}; next try in {Interval}", firing.Count, target.Name, e.Message, _resendInterval);
            }
        }
    }

    private async Task DeadLetterAsync(IProducer<byte[], byte[]> producer, ForwardedAlert alert, string reason, string error)
    {
        var value = DeadLetters.Serialize(alert.Raw, alert.Topic, alert.Partition, alert.Offset, Stage, reason, error, config.EffectiveHostName, DateTimeOffset.UtcNow);
        await producer.ProduceAsync(TopicCatalog.DeadLetter.Name, new Message<byte[], byte[]> { Key = System.Text.Encoding.UTF8.GetBytes(config.EffectiveHostName), Value = value }).ConfigureAwait(false);
        PipelineMetrics.DeadLetters.WithLabels(Stage, reason).Inc();
    }

    private static string Kind(IAlertTarget target) => target is WebhookTarget ? "webhook" : "alertmanager";
}
