// Reads ops.alerts.v1 with a consumer group, deserialises each alert with the shared contract,
// drops repeats (the same fingerprint in the same status), and prints one line per state change.
//
//   dotnet run --project examples/alert-consumer -- "$(cat pipeline-data/bootstrap)" [group]
using System.Text.Json;
using Confluent.Kafka;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;
using Pipeline.Schemas.Topics;

var bootstrap = args.Length > 0 ? args[0] : "localhost:9092";
var group = args.Length > 1 ? args[1] : "alert-consumer-example";
var config = new ConsumerConfig
{
    BootstrapServers = bootstrap,
    GroupId = group,
    AutoOffsetReset = AutoOffsetReset.Earliest,
    // Alerts may be written in transactions (processors.guarantee = "exactly_once"): read only committed ones.
    IsolationLevel = IsolationLevel.ReadCommitted,
    EnableAutoCommit = true,
};
using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
using var consumer = new ConsumerBuilder<string, byte[]>(config).Build();
consumer.Subscribe(TopicCatalog.Alerts.Name);

// Last status seen per fingerprint: at-least-once delivery (and repeat_interval) can show a state twice.
var lastStatus = new Dictionary<string, string>(StringComparer.Ordinal);
try
{
    while (!cts.IsCancellationRequested)
    {
        var result = consumer.Consume(cts.Token);
        AlertEvent alert;
        try
        {
            alert = EventSerializer.Deserialize(result.Message.Value, EventJsonContext.Default.AlertEvent);
        }
        catch (JsonException e)
        {
            Console.Error.WriteLine($"skipping unreadable record {result.TopicPartitionOffset}: {e.Message}");
            continue;
        }
        var fingerprint = alert.Alert.Fingerprint;
        if (lastStatus.TryGetValue(fingerprint, out var previous) && previous == alert.Alert.Status) continue;
        lastStatus[fingerprint] = alert.Alert.Status;
        if (alert.Alert.Status == AlertStatus.Resolved) lastStatus.Remove(fingerprint);
        Console.WriteLine($"{alert.Timestamp:u} {alert.Alert.Status.ToUpperInvariant(),-8} {alert.Alert.Severity,-8} {alert.Alert.Name} host={alert.Host.Name} {alert.Message}");
    }
}
catch (OperationCanceledException)
{
}
finally
{
    consumer.Close();
}
