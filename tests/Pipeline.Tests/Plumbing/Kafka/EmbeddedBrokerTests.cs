using Confluent.Kafka;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Kafka;
using Pipeline.Schemas.Topics;
using Pipeline.Testing;

namespace Pipeline.Tests.Plumbing.Kafka;

public class EmbeddedBrokerTests
{
    [Fact]
    public void ItCreatesEveryCatalogTopicWithItsPartitionCount()
    {
        using var broker = new EmbeddedBroker();
        broker.CreateTopics([("app-rule-x-repartition", 6)]);
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build();
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
        foreach (var topic in TopicCatalog.All)
            Assert.Equal(topic.Partitions, metadata.Topics.Single(t => t.Topic == topic.Name).Partitions.Count);
        Assert.Contains(metadata.Topics, t => t.Topic == "app-rule-x-repartition");
    }

    [Fact]
    public async Task KcatInAnotherProcessListsTheTopicsAndReadsWhatWeProduced()
    {
        if (Peers.MissingReason("kcat", "kcat") is { } reason) Assert.Skip(reason);
        using var broker = new EmbeddedBroker();
        broker.CreateTopics();
        var settings = new KafkaSettings(new KafkaConfig(), broker.Bootstrap, embedded: true);
        using (var producer = new ProducerBuilder<string, string>(settings.Producer("test")).Build())
        {
            await producer.ProduceAsync(new TopicPartition(TopicCatalog.Alerts.Name, 0), new Message<string, string> { Key = "k", Value = "{\"hello\":1}" });
        }
        var list = await Peers.RunAsync("kcat", ["-b", broker.Bootstrap, "-L", "-J"]);
        Assert.True(list.ExitCode == 0, list.ToString());
        foreach (var topic in TopicCatalog.All) Assert.Contains($"\"{topic.Name}\"", list.Stdout);
        var read = await Peers.RunAsync("kcat", ["-b", broker.Bootstrap, "-C", "-t", TopicCatalog.Alerts.Name, "-p", "0", "-o", "beginning", "-e", "-q", "-f", "%k %s\n"]);
        Assert.Equal("k {\"hello\":1}", read.Stdout.Trim());
    }

    [Fact]
    public async Task AStablePortForwardsToTheBroker()
    {
        if (Peers.MissingReason("kcat", "kcat") is { } reason) Assert.Skip(reason);
        int port = FreePort.Next();
        using var broker = new EmbeddedBroker(stablePort: port);
        broker.CreateTopics();
        Assert.Equal($"127.0.0.1:{port}", broker.Bootstrap);
        var list = await Peers.RunAsync("kcat", ["-b", broker.Bootstrap, "-L"]);
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains(TopicCatalog.Logs.Name, list.Stdout);
    }

    [Fact]
    public async Task WritesFailWhileTheBrokerIsDownAndSucceedOnceItIsBack()
    {
        using var broker = new EmbeddedBroker();
        broker.CreateTopics();
        var settings = new KafkaSettings(new KafkaConfig { DeliveryTimeout = "2s" }, broker.Bootstrap, embedded: true);
        using var producer = new ProducerBuilder<string, string>(settings.Producer("test")).Build();
        await producer.ProduceAsync(TopicCatalog.Logs.Name, new Message<string, string> { Key = "a", Value = "warm-up" });
        broker.SetBrokerDown(1);
        await Assert.ThrowsAsync<ProduceException<string, string>>(() =>
            producer.ProduceAsync(TopicCatalog.Logs.Name, new Message<string, string> { Key = "a", Value = "lost?" }));
        broker.SetBrokerUp(1);
        // The client reconnects on its own backoff, which on a loaded machine can outlast one 2 s delivery
        // timeout; what must hold is that writes succeed again once the broker is back, within a bound.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        DeliveryResult<string, string>? ok = null;
        while (ok is null)
        {
            try
            {
                ok = await producer.ProduceAsync(TopicCatalog.Logs.Name, new Message<string, string> { Key = "a", Value = "after" });
            }
            catch (ProduceException<string, string>) when (DateTime.UtcNow < deadline)
            {
            }
        }
        Assert.Equal(PersistenceStatus.Persisted, ok.Status);
    }

    [Fact]
    public void TheBootstrapFileHoldsTheAddressForOtherProcesses()
    {
        using var dir = new TempDirectory();
        using var broker = new EmbeddedBroker();
        var config = new PipelineConfig { DataDir = dir.Path };
        broker.WriteBootstrapFile(KafkaSettings.BootstrapFile(config));
        var client = KafkaSettings.ForClient(config);
        Assert.Equal(broker.Bootstrap, client.Bootstrap);
        Assert.True(client.Embedded);
    }

    [Fact]
    public void WithoutABrokerAClientSaysHowToStartOne()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<InvalidOperationException>(() => KafkaSettings.ForClient(new PipelineConfig { DataDir = dir.Path }));
        Assert.Contains("pipeline broker", e.Message);
    }
}
