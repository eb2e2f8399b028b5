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

    /// <summary>
    /// Pins a limit of librdkafka's mock cluster that the processors depend on: it answers TxnOffsetCommit with
    /// success but does not store the offsets, so a transactional (exactly-once) consumer group has no committed
    /// position and starts over from the beginning after every rebalance or restart, counting again what its
    /// changelogs already hold. Plain commits are stored. If a librdkafka upgrade makes this fail, exactly_once on
    /// the embedded broker works and the guard in StreamProcessorService can go.
    /// </summary>
    [Fact]
    public void TheEmbeddedBrokerStoresPlainOffsetCommitsButNotTransactionalOnes()
    {
        using var broker = new EmbeddedBroker();
        broker.CreateTopics();
        var settings = new KafkaSettings(new KafkaConfig(), broker.Bootstrap, embedded: true);
        var partition = new TopicPartition(TopicCatalog.Logs.Name, 0);
        using (var producer = new ProducerBuilder<byte[], byte[]>(settings.Producer("test")).Build())
        {
            for (int i = 0; i < 3; i++) producer.Produce(partition, new Message<byte[], byte[]> { Value = [1] });
            producer.Flush(TimeSpan.FromSeconds(10));
        }

        using var plain = new ConsumerBuilder<byte[], byte[]>(settings.Consumer("test", "plain-group")).Build();
        plain.Commit([new TopicPartitionOffset(partition, 2)]);
        Assert.Equal(2, plain.Committed([partition], TimeSpan.FromSeconds(10))[0].Offset.Value);

        using var consumer = new ConsumerBuilder<byte[], byte[]>(settings.Consumer("test", "txn-group")).Build();
        consumer.Subscribe(TopicCatalog.Logs.Name);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (consumer.Assignment.Count == 0 && DateTime.UtcNow < deadline) consumer.Consume(TimeSpan.FromMilliseconds(100));
        Assert.NotEmpty(consumer.Assignment);
        var txnConfig = new ProducerConfig(settings.Producer("txn")) { TransactionalId = "txn-" + Guid.NewGuid() };
        using (var txn = new ProducerBuilder<byte[], byte[]>(txnConfig).Build())
        {
            txn.InitTransactions(TimeSpan.FromSeconds(10));
            txn.BeginTransaction();
            txn.SendOffsetsToTransaction([new TopicPartitionOffset(partition, 2)], consumer.ConsumerGroupMetadata, TimeSpan.FromSeconds(10));
            txn.CommitTransaction(TimeSpan.FromSeconds(10));
        }
        Assert.Equal(Offset.Unset, consumer.Committed([partition], TimeSpan.FromSeconds(10))[0].Offset);
        consumer.Close();
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
    public void ATakenStablePortIsNamedInTheError()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        int port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var e = Assert.Throws<InvalidOperationException>(() => new EmbeddedBroker(stablePort: port));
        Assert.Equal($"kafka.embedded_port {port}: cannot listen on 127.0.0.1:{port}: Address already in use", e.Message);
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
