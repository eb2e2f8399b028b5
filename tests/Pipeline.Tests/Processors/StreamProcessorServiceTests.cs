using Streamiz.Kafka.Net;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Filters;
using Pipeline.Plumbing.Kafka;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Processors;
using Pipeline.Producers.Logs;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;
using Pipeline.Schemas.Topics;
using Pipeline.Testing;
using Pipeline.Tests.Plumbing.Kafka;

namespace Pipeline.Tests.Processors;

/// <summary>The processors as a Streamiz application on the embedded broker: restarts, exactly-once, scaling out.</summary>
public class StreamProcessorServiceTests
{
    private sealed class Cluster : IDisposable
    {
        /// <param name="realKafka">Bootstrap of a real Kafka; the embedded broker when null.</param>
        public Cluster(string guarantee = "at_least_once", double threshold = 4, string? realKafka = null, string stallTimeout = "30s", string evaluationInterval = "1s")
        {
            _evaluationInterval = evaluationInterval;
            _guarantee = guarantee;
            _threshold = threshold;
            _stallTimeout = stallTimeout;
            _realKafka = realKafka;
            Config = NewConfig(Dir.Path);
            if (realKafka is null)
            {
                _broker = new EmbeddedBroker();
                _broker.CreateTopics(ProcessorTopology.InternalTopics("proc-test", StreamProcessorService.CompileRules(Config)));
                Kafka = new KafkaSettings(Config.Kafka, _broker.Bootstrap, embedded: true);
            }
            else
            {
                // Streamiz creates its internal topics itself on a real cluster.
                Kafka = new KafkaSettings(Config.Kafka, realKafka, embedded: false);
                KafkaReadiness.EnsureTopicsAsync(Kafka, NullLogger.Instance).GetAwaiter().GetResult();
            }
            _producer = new ProducerBuilder<byte[], byte[]>(Kafka.Producer("test")).Build();
        }

        private readonly EmbeddedBroker? _broker;
        private readonly string? _realKafka;
        public EmbeddedBroker Broker => _broker ?? throw new InvalidOperationException("this cluster runs on a real Kafka");

        private readonly string _guarantee;
        private readonly double _threshold;
        private readonly string _stallTimeout;
        private readonly string _evaluationInterval;
        private readonly List<TempDirectory> _instanceDirs = [];

        private PipelineConfig NewConfig(string dataDir)
        {
            string guarantee = _guarantee;
            double threshold = _threshold;
            return new PipelineConfig
            {
                DataDir = dataDir,
                HostName = "processor-host",
                Kafka = new KafkaConfig { Bootstrap = _realKafka ?? KafkaConfig.Embedded },
                Processors = new ProcessorsConfig { DefaultRules = false, Guarantee = guarantee, ApplicationId = "proc-test", StallTimeout = _stallTimeout, EvaluationInterval = _evaluationInterval },
                Rules =
                [
                    new RuleConfig
                    {
                        Name = "errors", Source = "logs", Where = "log.level == \"error\"", GroupBy = ["host.name"],
                        // A day: tumbling windows are aligned to the epoch, and the tests' two batches of errors
                        // (seconds apart) must land in one window. With 2m, one run in ~20 crossed a boundary
                        // and counted 1 + 1 instead of 2.
                        Aggregate = "count()", Op = ">=", Threshold = threshold, Window = "1d",
                    },
                ],
            };
        }

        public TempDirectory Dir { get; } = new();
        public PipelineConfig Config { get; }
        public KafkaSettings Kafka { get; }
        private readonly IProducer<byte[], byte[]> _producer;
        private long _offset;

        /// <summary>
        /// An instance on the cluster's data directory (a restart sees what the one before left), or, with
        /// <paramref name="ownDataDir"/>, on its own, as a second host would be: instances that share a state directory
        /// read each other's checkpoint files and restore a moved task's in-memory store from the wrong offset.
        /// </summary>
        public StreamProcessorService Service(bool ownDataDir = false)
        {
            if (!ownDataDir) return new(Config, Kafka, NullLoggerFactory.Instance);
            var dir = new TempDirectory();
            _instanceDirs.Add(dir);
            return new(NewConfig(dir.Path), Kafka, NullLoggerFactory.Instance);
        }

        public void Errors(string host, int count)
        {
            var encoder = new LogEventEncoder(host, new Dictionary<string, string>(), []);
            for (int i = 0; i < count; i++)
            {
                var value = encoder.Encode(Encoding.UTF8.GetBytes($"ERROR {i}"), _offset += 10, "/var/log/x.log", "1:1:1", DateTimeOffset.UtcNow, LineFlags.None);
                _producer.Produce(TopicCatalog.Logs.Name, new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(host), Value = value });
            }
            _producer.Flush(TimeSpan.FromSeconds(10));
        }

        /// <summary>How many records each key has on ops.logs.v1 (for failure messages: the source itself may hold a duplicate).</summary>
        public string SourceCounts()
        {
            var config = Kafka.Consumer("test-source-reader", "source-" + Guid.NewGuid());
            using var consumer = new ConsumerBuilder<string, byte[]>(config).Build();
            consumer.Assign(Enumerable.Range(0, TopicCatalog.Logs.Partitions).Select(p => new TopicPartitionOffset(TopicCatalog.Logs.Name, p, Offset.Beginning)));
            var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
            var last = DateTime.UtcNow;
            while (DateTime.UtcNow - last < TimeSpan.FromSeconds(1))
            {
                var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (r?.Message is null) continue;
                counts[r.Message.Key] = counts.GetValueOrDefault(r.Message.Key) + 1;
                last = DateTime.UtcNow;
            }
            return string.Join(", ", counts.Select(c => $"{c.Key}={c.Value}"));
        }

        /// <summary>The application's committed offset and the end offset of each partition of the source topic (for failure messages).</summary>
        public string SourceProgress()
        {
            using var admin = new ConsumerBuilder<byte[], byte[]>(Kafka.Consumer("test-progress", "proc-test")).Build();
            var partitions = Enumerable.Range(0, TopicCatalog.Logs.Partitions).Select(p => new TopicPartition(TopicCatalog.Logs.Name, p)).ToList();
            var committed = admin.Committed(partitions, TimeSpan.FromSeconds(5));
            return string.Join(", ", committed.Select(c =>
                $"p{c.Partition.Value}={c.Offset}/{admin.QueryWatermarkOffsets(c.TopicPartition, TimeSpan.FromSeconds(5)).High}"));
        }

        /// <summary>Every committed alert so far, read from the beginning.</summary>
        public List<AlertEvent> Alerts(TimeSpan quiet)
        {
            var config = Kafka.Consumer("test-reader", "reader-" + Guid.NewGuid());
            using var consumer = new ConsumerBuilder<byte[], byte[]>(config).Build();
            consumer.Assign(Enumerable.Range(0, TopicCatalog.Alerts.Partitions).Select(p => new TopicPartitionOffset(TopicCatalog.Alerts.Name, p, Offset.Beginning)));
            var alerts = new List<AlertEvent>();
            var last = DateTime.UtcNow;
            while (DateTime.UtcNow - last < quiet)
            {
                var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (r?.Message is null) continue;
                alerts.Add(EventSerializer.Deserialize(r.Message.Value, EventJsonContext.Default.AlertEvent));
                last = DateTime.UtcNow;
            }
            return alerts;
        }

        public async Task<List<AlertEvent>> WaitForAlerts(Func<List<AlertEvent>, bool> done, TimeSpan timeout)
            => await Eventually.Get(() => Task.FromResult<List<AlertEvent>?>(Alerts(TimeSpan.FromMilliseconds(500))), a => a is not null && done(a), timeout, "alerts");

        public void Dispose()
        {
            _producer.Dispose();
            _broker?.Dispose();
            Dir.Dispose();
            foreach (var dir in _instanceDirs) dir.Dispose();
        }
    }

    [Fact]
    public async Task CountsContinueAcrossARestartAndAFiringAlertDoesNotFireAgain()
    {
        // No wall-clock evaluation runs in this test (1h), so what survives a restart is only what the evaluator wrote
        // to its store when Streamiz flushed it: at each commit, and when the stream closed.
        using var cluster = new Cluster(evaluationInterval: "1h");
        var first = cluster.Service();
        await first.StartAsync(CancellationToken.None);
        cluster.Errors("web-1", 2);
        await Task.Delay(TimeSpan.FromSeconds(3));
        await first.StopAsync(CancellationToken.None);
        first.Dispose();
        Assert.Empty(cluster.Alerts(TimeSpan.FromSeconds(1)));

        // Mid-window restart: the evaluator's store comes back from its changelog, so 2 + 2 reaches 4.
        var second = cluster.Service();
        await second.StartAsync(CancellationToken.None);
        cluster.Errors("web-1", 2);
        var fired = await cluster.WaitForAlerts(a => a.Count >= 1, TimeSpan.FromSeconds(45));
        Assert.Equal(4, Assert.Single(fired).Alert.Value);
        await second.StopAsync(CancellationToken.None);
        second.Dispose();

        // Restart while firing: more errors in the same window must not announce it again.
        var third = cluster.Service();
        await third.StartAsync(CancellationToken.None);
        cluster.Errors("web-1", 3);
        await Task.Delay(TimeSpan.FromSeconds(6));
        await third.StopAsync(CancellationToken.None);
        third.Dispose();
        Assert.Single(cluster.Alerts(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task TheStreamThreadReportsThatItPollsEvenWhenIdle()
    {
        using var cluster = new Cluster();
        var service = cluster.Service();
        Assert.Null(service.SinceLastPoll);
        await service.StartAsync(CancellationToken.None);
        try
        {
            await Eventually.True(() => service.SinceLastPoll is not null, TimeSpan.FromSeconds(30), "a first poll report");
            // Beyond one report interval (5 s) with no input: it keeps reporting.
            await Task.Delay(TimeSpan.FromSeconds(7));
            Assert.True(service.SinceLastPoll < TimeSpan.FromSeconds(6.5), $"last poll {service.SinceLastPoll} ago");
            Assert.True(StageProgress.SinceLastBeat(StageProgress.Processors) < TimeSpan.FromSeconds(6.5));
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
            service.Dispose();
            service.Dispose(); // as the host does: once as a hosted service, once as a singleton
        }
    }

    [Fact]
    public async Task ExactlyOnceSurvivesInjectedProduceErrorsWithoutDuplicateAlerts()
    {
        using var cluster = new Cluster("exactly_once", threshold: 3);
        var service = cluster.Service();
        await service.StartAsync(CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(2));
        // Produce (API key 0) fails transiently three times: NOT_ENOUGH_REPLICAS (19), retriable.
        cluster.Broker.PushRequestErrors(0, 19, 19, 19);
        foreach (var host in new[] { "a", "b", "c", "d" }) cluster.Errors(host, 3);
        var alerts = await cluster.WaitForAlerts(a => a.Count >= 4, TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(3));
        alerts = cluster.Alerts(TimeSpan.FromSeconds(1));
        await service.StopAsync(CancellationToken.None);
        service.Dispose();
        Assert.Equal(["a", "b", "c", "d"], alerts.Select(a => a.Host.Name).Order());
        Assert.All(alerts, a => Assert.Equal(3, a.Alert.Value));
    }

    // Exactly-once: the alert, the offsets and the state commit together, so nothing is lost or doubled.
    // At-least-once (the default): nothing is lost, but a record processed after the last commit before the
    // rebalance is processed again by the instance that takes the partition over, and can announce its alert
    // a second time, with the same fingerprint, which is what downstream deduplicates on.
    [Theory]
    [InlineData("exactly_once")]
    [InlineData("at_least_once")]
    public async Task TwoInstancesShareTheWorkAndStoppingOneLosesOrDoublesNoAlert(string guarantee)
    {
        // exactly_once needs a broker that stores transactional offset commits, and the embedded one does not
        // (EmbeddedBrokerTests pins it): there every rebalance re-reads the sources from the start and counts again.
        // So that variant runs on a real Kafka, where Docker exists.
        // at_least_once runs on the embedded broker. About one run in four, the stopping instance's leave makes the
        // survivor's commit fail with "rebalance in progress", and Streamiz 1.8.2's stream thread then stops polling
        // for good while still reporting RUNNING; the stall guard restarts that stream (processors.stall_timeout, 10s
        // here), and the test passes only if the restarted stream picks the work up. StallRestarts says which path ran.
        await using var realKafka = guarantee == "exactly_once"
            ? await RealKafka.StartOrSkipAsync("exactly_once across a rebalance needs a broker that stores transactional offset commits, which the embedded broker does not")
            : null;
        using var cluster = new Cluster(guarantee, threshold: 2, realKafka?.GetBootstrapAddress(), stallTimeout: "10s");
        var a = cluster.Service(ownDataDir: true);
        var b = cluster.Service(ownDataDir: true);
        await a.StartAsync(CancellationToken.None);
        await b.StartAsync(CancellationToken.None);
        // The group settled: both running, no rebalance for 3 s. Once in CI, under exactly_once on the embedded
        // broker, records sent while the start-up rebalance was still going on were counted twice (an alert at 2
        // after one error per host); the cause is not pinned down. What this test is about is the stop below.
        await Eventually.True(() => a.State == KafkaStream.State.RUNNING && b.State == KafkaStream.State.RUNNING
            && DateTime.UtcNow - (a.StateSince > b.StateSince ? a.StateSince : b.StateSince) > TimeSpan.FromSeconds(3),
            TimeSpan.FromSeconds(60), "both instances running, the group settled");
        var hosts = Enumerable.Range(0, 12).Select(i => $"host-{i}").ToList();
        foreach (var h in hosts) cluster.Errors(h, 1);
        await Task.Delay(TimeSpan.FromSeconds(3));
        await b.StopAsync(CancellationToken.None); // its partitions move to a, with their state
        b.Dispose();
        foreach (var h in hosts) cluster.Errors(h, 1);
        List<AlertEvent> alerts;
        try
        {
            // Room for a stall: 10 s to notice it, the stalled stream's close (seen to take tens of seconds under load), a rejoin.
            await cluster.WaitForAlerts(x => x.Count >= hosts.Count, TimeSpan.FromSeconds(120));
        }
        catch (TimeoutException e)
        {
            alerts = cluster.Alerts(TimeSpan.FromSeconds(1));
            throw new TimeoutException($"{e.Message}; instance a {a.State} since {a.StateSince:HH:mm:ss.fff}, last polled {a.SinceLastPoll} ago, stall restarts {a.StallRestarts}; source records per host: {cluster.SourceCounts()}; committed/end per partition: {cluster.SourceProgress()}; alerts for: {string.Join(", ", alerts.Select(x => x.Host.Name).Order())}", e);
        }
        await Task.Delay(TimeSpan.FromSeconds(3));
        alerts = cluster.Alerts(TimeSpan.FromSeconds(1));
        await a.StopAsync(CancellationToken.None);
        a.Dispose();
        TestContext.Current.SendDiagnosticMessage($"two instances, {guarantee}: the survivor's stream was restarted {a.StallRestarts} time(s) after a stall");
        if (guarantee == "exactly_once")
        {
            Assert.True(hosts.Order().SequenceEqual(alerts.Select(x => x.Host.Name).Order()),
                "source records per host: " + cluster.SourceCounts() + "\ncommitted/end per partition: " + cluster.SourceProgress() + "\nalerts: " + string.Join("; ", alerts.Select(x => $"{x.Host.Name} {x.Alert.Status} value={x.Alert.Value} id={x.Event.Id} at={x.Timestamp:HH:mm:ss.fff} started={x.Alert.StartedAt:HH:mm:ss.fff}")));
        }
        else
        {
            Assert.Equal(hosts.Order(), alerts.Select(x => x.Host.Name).Distinct().Order());
            foreach (var same in alerts.GroupBy(x => x.Host.Name))
                Assert.Single(same.Select(x => x.Alert.Fingerprint).Distinct());
        }
    }

    /// <summary>A filter that holds the stream thread until released, as a stuck stream thread would.</summary>
    private sealed class GateFilterFactory : IEventFilterFactory
    {
        public readonly ManualResetEventSlim Entered = new();
        public readonly ManualResetEventSlim Release = new();
        public string Type => "gate";
        public IEventFilter Create(FilterConfig config) => new Gate(this);

        private sealed class Gate(GateFilterFactory owner) : IEventFilter
        {
            public string Name => "gate";
            public bool Apply(FilterEvent e)
            {
                owner.Entered.Set();
                owner.Release.Wait(TimeSpan.FromSeconds(60));
                return true;
            }
        }
    }

    [Fact]
    public async Task AStreamThreadThatStopsPollingIsRestartedAndItsRecordsAreStillProcessed()
    {
        using var cluster = new Cluster(threshold: 1, stallTimeout: "10s");
        var service = cluster.Service();
        var gate = new GateFilterFactory();
        await service.StartAsync(CancellationToken.None);
        try
        {
            await Eventually.True(() => service.State == KafkaStream.State.RUNNING && service.SinceLastPoll is not null, TimeSpan.FromSeconds(30), "the stream running and polling");
            service.Chains.Replace([new FilterConfig { Type = "gate", Source = "logs" }], new FilterFactory(null, [gate]));
            cluster.Errors("stuck-1", 1);
            Assert.True(gate.Entered.Wait(TimeSpan.FromSeconds(30)), "the record reached the gate");
            // The thread is held: no poll, while the stream still says RUNNING. Nothing happens before the timeout:
            // its last poll report was at most 5 s (the report interval) before the gate, so 2 s in it is < 10 s.
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.Equal(0, service.StallRestarts);
            Assert.Equal(KafkaStream.State.RUNNING, service.State);
            await Eventually.True(() => service.StallRestarts == 1, TimeSpan.FromSeconds(30), "a restart after 10s without a poll");
            // Let the old thread go (a thread stuck for good is left to systemd's watchdog), and the gate open for the new one.
            service.Chains.Replace([], new FilterFactory());
            gate.Release.Set();
            await Eventually.True(() => service.State == KafkaStream.State.RUNNING && service.SinceLastPoll < TimeSpan.FromSeconds(6),
                TimeSpan.FromSeconds(60), "the new stream running and polling");
            var alerts = await cluster.WaitForAlerts(a => a.Count >= 1, TimeSpan.FromSeconds(60));
            Assert.Equal("stuck-1", Assert.Single(alerts.Select(a => a.Host.Name).Distinct()));
            Assert.Equal(1, service.StallRestarts);
        }
        finally
        {
            gate.Release.Set();
            await service.StopAsync(CancellationToken.None);
            service.Dispose();
        }
    }
}
