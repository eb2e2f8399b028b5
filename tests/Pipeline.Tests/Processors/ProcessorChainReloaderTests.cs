using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Filters;
using Pipeline.Plumbing.Kafka;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Processors;
using Pipeline.Processors.Filtering;
using Pipeline.Producers.Logs;
using Pipeline.Schemas.Topics;
using Pipeline.Testing;
using Pipeline.Tests.Plumbing.Config;
using Pipeline.Tests.Producers.Process;

namespace Pipeline.Tests.Processors;

/// <summary>
/// Filter chains of the running processors follow the config file; an invalid one is refused and the old one keeps
/// running. (The running service also shows its consumer lag.)
/// </summary>
[Collection(ConfigReloaderTests.Name)]
public class ProcessorChainReloaderTests
{
    private static FilterConfig Drop(string word) => new() { Source = "logs", Type = "drop", Where = $"message contains \"{word}\"" };

    private static PipelineConfig WithChain(params FilterConfig[] filters) => new()
    {
        Processors = new ProcessorsConfig { DefaultRules = false, WriteFiltered = true, Filters = [.. filters] },
    };

    private static LoadedConfig Loaded(PipelineConfig config) => new(config, "test.toml", new Dictionary<string, ConfigLocation>());

    private static bool Drops(SourceFilterChains chains, string message)
        => chains.For(TopicCatalog.Logs.Name).Run(FilterEvent.Parse(Encoding.UTF8.GetBytes($"{{\"message\":\"{message}\"}}")), out _) == FilterOutcome.Drop;

    [Fact]
    public void ANewChainIsSwappedInAndARejectedOneLeavesTheOldRunning()
    {
        var running = WithChain(Drop("alpha"));
        var chains = SourceFilterChains.From(running);
        var reloader = new ProcessorChainReloader(chains, running, NullLogger<ProcessorChainReloader>.Instance);
        Assert.True(Drops(chains, "alpha 1"));

        reloader.Apply(Loaded(WithChain(Drop("beta"))));
        Assert.False(Drops(chains, "alpha 2"));
        Assert.True(Drops(chains, "beta 2"));

        // The second filter of the chain is broken: nothing of the new chain applies, not even its valid first filter.
        var broken = WithChain(Drop("gamma"), new FilterConfig { Source = "logs", Type = "drop", Where = "message contains" });
        var error = Assert.Throws<ArgumentException>(() => reloader.Apply(Loaded(broken)));
        Assert.Contains("source \"logs\"", error.Message);
        Assert.Contains("filter #2 (drop)", error.Message);
        Assert.True(Drops(chains, "beta 3"));
        Assert.False(Drops(chains, "gamma 3"));

        var unknown = WithChain(new FilterConfig { Source = "logs", Type = "no_such_plugin" });
        Assert.Contains("unknown filter type \"no_such_plugin\"", Assert.Throws<ArgumentException>(() => reloader.Apply(Loaded(unknown))).Message);
        Assert.True(Drops(chains, "beta 4"));
        Assert.Equal(1, reloader.ReloadsApplied);
    }

    [Fact]
    public void ChangedRulesAreLoggedAsNeedingARestartWhileTheChainsStillApply()
    {
        var running = WithChain(Drop("alpha"));
        running.Rules = [new RuleConfig { Name = "errors", Where = "log.level == \"error\"", Threshold = 5 }];
        var log = new CapturingLogger<ProcessorChainReloader>();
        var chains = SourceFilterChains.From(running);
        var reloader = new ProcessorChainReloader(chains, running, log);

        var same = WithChain(Drop("beta"));
        same.Rules = [new RuleConfig { Name = "errors", Where = "log.level == \"error\"", Threshold = 5 }];
        reloader.Apply(Loaded(same));
        Assert.DoesNotContain(log.Lines, l => l.Level >= LogLevel.Warning);

        var changed = WithChain(Drop("beta"));
        changed.Rules = [new RuleConfig { Name = "errors", Where = "log.level == \"error\"", Threshold = 6 }];
        reloader.Apply(Loaded(changed));
        var warning = Assert.Single(log.Lines, l => l.Level == LogLevel.Warning);
        Assert.Contains("[[rules]] changed", warning.Message);
        Assert.Contains("restart", warning.Message);
        Assert.True(Drops(chains, "beta"));
    }

    [Fact]
    public async Task ARunningServiceFollowsTheConfigFileAndKeepsItsChainWhenTheNewOneIsInvalid()
    {
        using var dir = new TempDirectory("pipeline-chain-reload");
        using var broker = new EmbeddedBroker();
        broker.CreateTopics([(ProcessorTopology.FilteredTopic(TopicCatalog.Logs), TopicCatalog.Logs.Partitions)]);
        var path = dir.File("pipeline.toml");
        File.WriteAllText(path, Toml(dir.Path, "alpha"));
        var loaded = ConfigLoader.Load(path);
        var kafka = new KafkaSettings(loaded.Config.Kafka, broker.Bootstrap, embedded: true);
        var service = new StreamProcessorService(loaded.Config, kafka, NullLoggerFactory.Instance);
        var chainReloader = new ProcessorChainReloader(service.Chains, loaded.Config, NullLogger<ProcessorChainReloader>.Instance);
        using var reloader = new ConfigReloader(path, [chainReloader], NullLogger<ConfigReloader>.Instance);
        using var producer = new ProducerBuilder<byte[], byte[]>(kafka.Producer("test")).Build();
        using var filtered = new FilteredReader(kafka);
        await service.StartAsync(CancellationToken.None);
        await reloader.StartAsync(CancellationToken.None);
        try
        {
            Send(producer, "alpha 1", "beta 1", "gamma 1");
            Assert.Equal(["beta 1", "gamma 1"], await filtered.Next(2));
            // The processors report their consumer lag like the sinks do, from Streamiz's own consumer.
            await Eventually.True(() => PipelineMetrics.ConsumerLag.GetAllLabelValues().Any(l => l[0] == ProcessorTopology.Stage && l[1] == TopicCatalog.Logs.Name
                && PipelineMetrics.ConsumerLag.WithLabels(l).Value == 0), TimeSpan.FromSeconds(15), "pipeline_consumer_lag{stage=\"processors\"} caught up");

            double failures = PipelineMetrics.ConfigReloads.WithLabels("failure").Value;
            File.WriteAllText(path, Toml(dir.Path, "beta"));
            await Eventually.True(() => chainReloader.ReloadsApplied == 1, TimeSpan.FromSeconds(10), "chain B applied");
            Send(producer, "alpha 2", "beta 2", "gamma 2");
            Assert.Equal(["alpha 2", "gamma 2"], await filtered.Next(2));

            File.WriteAllText(path, Toml(dir.Path, "gamma\" and"));
            await Eventually.True(() => PipelineMetrics.ConfigReloads.WithLabels("failure").Value == failures + 1, TimeSpan.FromSeconds(10), "the invalid chain refused");
            var error = Assert.Single(PipelineMetrics.ConfigLastReloadError.GetAllLabelValues())[0];
            Assert.Contains("[[processors.filters]] #1 (drop)", error);
            Assert.Equal(0, PipelineMetrics.ConfigLastReloadSuccessful.Value);
            Send(producer, "alpha 3", "beta 3", "gamma 3");
            Assert.Equal(["alpha 3", "gamma 3"], await filtered.Next(2));
            Assert.Equal(1, chainReloader.ReloadsApplied);
        }
        finally
        {
            await reloader.StopAsync(CancellationToken.None);
            await service.StopAsync(CancellationToken.None);
            service.Dispose();
        }
    }

    private static string Toml(string dataDir, string dropWord) => $"""
        data_dir = "{dataDir}"
        host_name = "reload-host"

        [processors]
        default_rules = false
        write_filtered = true
        application_id = "chain-reload-test"

        [[processors.filters]]
        source = "logs"
        type = "drop"
        where = 'message contains "{dropWord}"'
        """;

    private static void Send(IProducer<byte[], byte[]> producer, params string[] messages)
    {
        var encoder = new LogEventEncoder("reload-host", new Dictionary<string, string>(), []);
        long offset = 0;
        foreach (var message in messages)
        {
            var value = encoder.Encode(Encoding.UTF8.GetBytes(message), offset += 10, "/var/log/x.log", "1:1:1", DateTimeOffset.UtcNow, LineFlags.None);
            // One key, one partition: the filtered topic keeps the order they were sent in.
            producer.Produce(TopicCatalog.Logs.Name, new Message<byte[], byte[]> { Key = "reload-host"u8.ToArray(), Value = value });
        }
        producer.Flush(TimeSpan.FromSeconds(10));
    }

    /// <summary>Reads the messages of <c>ops.logs.v1.filtered</c> in order, from its beginning.</summary>
    private sealed class FilteredReader : IDisposable
    {
        private readonly IConsumer<byte[], byte[]> _consumer;

        public FilteredReader(KafkaSettings kafka)
        {
            _consumer = new ConsumerBuilder<byte[], byte[]>(kafka.Consumer("test-reader", "reader-" + Guid.NewGuid())).Build();
            var topic = ProcessorTopology.FilteredTopic(TopicCatalog.Logs);
            _consumer.Assign(Enumerable.Range(0, TopicCatalog.Logs.Partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        }

        /// <summary>The next <paramref name="count"/> messages, then half a second more to catch any that should not be there.</summary>
        public async Task<List<string>> Next(int count)
        {
            var messages = new List<string>();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(45);
            DateTime? quietUntil = null;
            while (DateTime.UtcNow < deadline && (quietUntil is null || DateTime.UtcNow < quietUntil))
            {
                var r = _consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (r?.Message is not null)
                    messages.Add(JsonDocument.Parse(r.Message.Value).RootElement.GetProperty("message").GetString()!);
                if (messages.Count >= count) quietUntil ??= DateTime.UtcNow + TimeSpan.FromMilliseconds(500);
                await Task.Yield();
            }
            return messages;
        }

        public void Dispose() => _consumer.Dispose();
    }
}
