using Confluent.Kafka;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Kafka;
using Pipeline.Schemas.Topics;
using Testcontainers.Kafka;

namespace Pipeline.Tests.Plumbing.Kafka;

/// <summary>The same client settings against a real Apache Kafka, where Docker exists.</summary>
public class RealKafkaTests
{
    [Fact]
    public async Task TopicsAreCreatedAndRecordsRoundTripOnRealKafka()
    {
        KafkaContainer container;
        try
        {
            container = new KafkaBuilder("apache/kafka:4.1.1").Build();
            await container.StartAsync(TestContext.Current.CancellationToken);
        }
        catch (Exception e) when (e.GetType().Name.Contains("Docker", StringComparison.Ordinal) || e is InvalidOperationException or ArgumentException)
        {
            Assert.Skip($"no Docker engine here, so no real Kafka container ({e.GetType().Name}: {e.Message.Split('\n')[0]})");
            return;
        }
        await using (container)
        {
            var settings = new KafkaSettings(new KafkaConfig { Bootstrap = container.GetBootstrapAddress() }, container.GetBootstrapAddress(), embedded: false);
            await KafkaReadiness.EnsureTopicsAsync(settings, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
            using var producer = new ProducerBuilder<string, string>(settings.Producer("test")).Build();
            var result = await producer.ProduceAsync(TopicCatalog.Logs.Name, new Message<string, string> { Key = "h", Value = "v" });
            Assert.Equal(PersistenceStatus.Persisted, result.Status);
        }
    }
}
