using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Kafka;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;
using Pipeline.Schemas.Topics;
using Spectre.Console;

namespace Pipeline.Sinks.Console;

/// <summary>
/// Prints one line per alert read from <c>ops.alerts.v1</c>, as it fires or resolves. It reads the topic
/// like any downstream consumer would, without a consumer group (nothing to commit, no join delay).
/// </summary>
public sealed class ConsoleAlertPrinter(KafkaSettings kafka, IAnsiConsole console, ILogger<ConsoleAlertPrinter> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
        => Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stop)
    {
        var config = kafka.Consumer("console", "pipeline-console");
        using var consumer = new ConsumerBuilder<byte[], byte[]>(config).SetLogHandler(KafkaLog.To(logger)).SetErrorHandler((_, _) => { }).Build();
        var partitions = Enumerable.Range(0, TopicCatalog.Alerts.Partitions)
            .Select(p => new TopicPartitionOffset(TopicCatalog.Alerts.Name, p, Offset.End)).ToList();
        consumer.Assign(partitions);
        while (!stop.IsCancellationRequested)
        {
            ConsumeResult<byte[], byte[]>? result;
            try
            {
                result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            }
            catch (ConsumeException e)
            {
                logger.LogWarning("alert printer: {Error}", e.Error.Reason);
                continue;
            }
            if (result?.Message?.Value is null) continue;
            try
            {
                var alert = EventSerializer.Deserialize(result.Message.Value, EventJsonContext.Default.AlertEvent);
                console.MarkupLine(Format(alert));
            }
            catch (JsonException e)
            {
                logger.LogWarning("alert printer: unreadable alert at {Topic}[{Partition}]@{Offset}: {Error}", result.Topic, result.Partition.Value, result.Offset.Value, e.Message);
            }
        }
        consumer.Close();
    }

    /// <summary>e.g. <c>12:03:04 FIRING   warning  error-logs  host=web-1  value=120 &gt;= 100 (1m)  120 error lines ...</c></summary>
    public static string Format(AlertEvent alert)
    {
        bool firing = alert.Alert.Status == AlertStatus.Firing;
        var status = firing ? "[bold red]FIRING  [/]" : "[bold green]RESOLVED[/]";
        var severity = alert.Alert.Severity switch
        {
            "critical" => "[red]critical[/]",
            "warning" => "[yellow]warning [/]",
            _ => "[blue]info    [/]",
        };
        var time = alert.Timestamp.UtcDateTime.ToString("HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
        return $"{time} {status} {severity} [bold]{Markup.Escape(alert.Alert.Name)}[/]  host={Markup.Escape(alert.Host.Name)}  " +
               $"value={Markup.Escape(alert.Alert.Value.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture))} {Markup.Escape(alert.Alert.Op)} " +
               $"{Markup.Escape(alert.Alert.Threshold.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture))} ({Markup.Escape(alert.Alert.Window)})  {Markup.Escape(alert.Message)}";
    }
}
