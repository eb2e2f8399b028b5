using Testcontainers.Kafka;

namespace Pipeline.Tests.Plumbing.Kafka;

/// <summary>A real Apache Kafka in a container, for what the embedded broker cannot show; the test is skipped, saying why, where there is no Docker.</summary>
internal static class RealKafka
{
    /// <param name="why">Why this test needs a real Kafka, for the skip message.</param>
    public static async Task<KafkaContainer> StartOrSkipAsync(string why)
    {
        try
        {
            var container = new KafkaBuilder("apache/kafka:4.1.1").Build();
            await container.StartAsync(TestContext.Current.CancellationToken);
            return container;
        }
        catch (Exception e) when (e.GetType().Name.Contains("Docker", StringComparison.Ordinal) || e is InvalidOperationException or ArgumentException)
        {
            Assert.Skip($"{why}; there is no Docker engine here, so no real Kafka container ({e.GetType().Name}: {e.Message.Split('\n')[0]})");
            throw; // not reached: Skip throws
        }
    }
}
