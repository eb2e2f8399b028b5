using System.Diagnostics;
using Confluent.Kafka;
using Pipeline.Plumbing.Kafka;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;
using Pipeline.Schemas.Topics;
using Pipeline.Testing;

namespace Pipeline.EndToEnd.Tests;

/// <summary>examples/alert-consumer, run as a program: it must keep working for the teams who copy it.</summary>
public class AlertConsumerExampleTests
{
    [Fact]
    public async Task ItPrintsOneLinePerStateChangeAndDropsRepeats()
    {
        using var broker = new EmbeddedBroker();
        broker.CreateTopics();
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = broker.Bootstrap }).Build())
        {
            var started = DateTimeOffset.UtcNow;
            foreach (var status in new[] { AlertStatus.Firing, AlertStatus.Firing, AlertStatus.Resolved })
            {
                var alert = new AlertEvent
                {
                    Timestamp = DateTimeOffset.UtcNow,
                    Event = new EventInfo { Kind = EventKinds.Alert, Dataset = "ops.alerts", Id = EventIds.FromParts(status, Guid.NewGuid().ToString()) },
                    Host = new HostInfo { Name = "web-9" },
                    Alert = new AlertInfo
                    {
                        Name = "errors", Status = status, Severity = "warning", Fingerprint = EventIds.FromParts("fp"), Value = 5, Threshold = 5,
                        Op = ">=", Window = "1m", Source = "logs", Group = new Dictionary<string, string>(), StartedAt = started,
                    },
                    Message = "5 errors",
                };
                await producer.ProduceAsync(new TopicPartition(TopicCatalog.Alerts.Name, 0), new Message<string, byte[]> { Key = alert.Alert.Fingerprint, Value = EventSerializer.Serialize(alert) });
            }
        }
        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var dll = Path.Combine(RepositoryRoot.Path, "examples", "alert-consumer", "bin", configuration, "net10.0", "alert-consumer.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add(broker.Bootstrap);
        using var process = Process.Start(psi)!;
        var lines = new List<string>();
        var reading = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line) lock (lines) lines.Add(line);
        });
        await Eventually.True(() => { lock (lines) return lines.Count >= 2; }, TimeSpan.FromSeconds(60), "two lines from the example consumer");
        await Task.Delay(TimeSpan.FromSeconds(1));
        process.Kill();
        await process.WaitForExitAsync();
        lock (lines)
        {
            Assert.Equal(2, lines.Count);
            Assert.Contains("FIRING", lines[0]);
            Assert.Contains("RESOLVED", lines[1]);
            Assert.Contains("host=web-9", lines[1]);
        }
    }
}
