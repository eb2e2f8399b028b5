using Confluent.Kafka;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Kafka;
using Pipeline.Schemas.Topics;

namespace Pipeline.Tests.Plumbing.Kafka;

/// <summary>The same client settings against a real Apache Kafka, where Docker exists.</summary>
public class RealKafkaTests
{
    [Fact]
    public async Task TopicsAreCreatedAndRecordsRoundTripOnRealKafka()
    {
        var container = await RealKafka.StartOrSkipAsync("this test is about a real Apache Kafka");
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
