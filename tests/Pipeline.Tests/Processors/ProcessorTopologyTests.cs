using System.Text;
using Pipeline.Plumbing.Config;
using Pipeline.Processors;
using Pipeline.Processors.Decoding;
using Pipeline.Processors.Rules;
using Pipeline.Producers.Logs;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;
using Pipeline.Schemas.Topics;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Mock;
using Streamiz.Kafka.Net.SerDes;

namespace Pipeline.Tests.Processors;

/// <summary>The real topology, driven in-process by Streamiz's TopologyTestDriver.</summary>
public class ProcessorTopologyTests
{
    private static readonly RuleConfig ErrorRule = new()
    {
        Name = "errors",
        Source = "logs",
        Where = "log.level == \"error\"",
        GroupBy = ["host.name"],
        Aggregate = "count()",
        Op = ">=",
        Threshold = 3,
        Window = "10s",
        Severity = "critical",
        Summary = "{{value}} errors in {{window}} on {{host.name}}",
    };

    internal sealed class Harness : IDisposable
    {
        public Harness(params RuleConfig[] rules) : this([], false, rules) { }

        public Harness(IReadOnlyList<Pipeline.Plumbing.Filters.FilterConfig> filters, bool writeFiltered, params RuleConfig[] rules)
        {
            var compiled = rules.Select(r => new ThresholdRule(r)).ToList();
            var topology = ProcessorTopology.Build(compiled, new ProcessorTopology.Options(
                "test-app", "processor-host", TimeSpan.FromSeconds(1), new ProcessorActivity(), TimeProvider.System)
            {
                Filters = new Pipeline.Processors.Filtering.SourceFilterChains(filters, new Pipeline.Plumbing.Filters.FilterFactory()),
                WriteFiltered = writeFiltered ? [TopicCatalog.Logs] : [],
            });
            var config = new StreamConfig<StringSerDes, ByteArraySerDes> { ApplicationId = "test-app" };
            Driver = new TopologyTestDriver(topology, config);
            Logs = Driver.CreateInputTopic<string, byte[], StringSerDes, ByteArraySerDes>(TopicCatalog.Logs.Name);
            Alerts = Driver.CreateOutputTopic<string, byte[], StringSerDes, ByteArraySerDes>(TopicCatalog.Alerts.Name);
            DeadLetters = Driver.CreateOutputTopic<string, byte[], StringSerDes, ByteArraySerDes>(TopicCatalog.DeadLetter.Name);
            Filtered = Driver.CreateOutputTopic<string, byte[], StringSerDes, ByteArraySerDes>(ProcessorTopology.FilteredTopic(TopicCatalog.Logs));
        }

        public TestOutputTopic<string, byte[]> Filtered { get; }

        public TopologyTestDriver Driver { get; }
        public TestInputTopic<string, byte[]> Logs { get; }
        public TestOutputTopic<string, byte[]> Alerts { get; }
        public TestOutputTopic<string, byte[]> DeadLetters { get; }

        private long _offset;

        /// <summary>A log line of <paramref name="host"/>, keyed by the host as the agent keys it, or by <paramref name="key"/>.</summary>
        public void Line(string host, string message, DateTime at, string? key = "")
        {
            var encoder = new LogEventEncoder(host, new Dictionary<string, string>(), []);
            var flags = LineFlags.None;
            var value = encoder.Encode(Encoding.UTF8.GetBytes(message), _offset += 100, "/var/log/app.log", "1:2:3", at, flags);
            Logs.PipeInput(key == "" ? host : key!, value, at); // null: a record without a key
        }

        public List<AlertEvent> ReadAlerts()
            => Alerts.ReadKeyValueList().Select(kv => EventSerializer.Deserialize(kv.Message.Value, EventJsonContext.Default.AlertEvent)).ToList();

        public void Dispose() => Driver.Dispose();
    }

    [Fact]
    public void ThreeErrorsInAWindowFireOnceAndAnEmptyLaterWindowResolves()
    {
        using var h = new Harness(ErrorRule);
        var t0 = DateTime.UtcNow;
        h.Line("web-1", "ERROR one", t0);
        h.Line("web-1", "INFO fine", t0.AddMilliseconds(100));
        h.Line("web-1", "ERROR two", t0.AddMilliseconds(200));
        Assert.Empty(h.ReadAlerts());
        h.Line("web-1", "ERROR three", t0.AddMilliseconds(300));
        h.Line("web-1", "ERROR four", t0.AddMilliseconds(400));

        var fired = Assert.Single(h.ReadAlerts());
        Assert.Equal(AlertStatus.Firing, fired.Alert.Status);
        Assert.Equal(3, fired.Alert.Value);
        Assert.Equal(3, fired.Alert.Threshold);
        Assert.Equal("10s", fired.Alert.Window);
        Assert.Equal("critical", fired.Alert.Severity);
        Assert.Equal("web-1", fired.Host.Name);
        Assert.Equal("3 errors in 10s on web-1", fired.Message);

        h.Driver.AdvanceWallClockTime(TimeSpan.FromSeconds(35));
        var resolved = Assert.Single(h.ReadAlerts());
        Assert.Equal(AlertStatus.Resolved, resolved.Alert.Status);
        Assert.Equal(fired.Alert.Fingerprint, resolved.Alert.Fingerprint);
        Assert.Equal(fired.Alert.StartedAt, resolved.Alert.StartedAt);
        Assert.NotEqual(fired.Event.Id, resolved.Event.Id);
    }

    [Fact]
    public void GroupsAreCountedSeparately()
    {
        using var h = new Harness(ErrorRule);
        var t0 = DateTime.UtcNow;
        for (int i = 0; i < 2; i++)
        {
            h.Line("web-1", "ERROR a", t0.AddMilliseconds(i));
            h.Line("web-2", "ERROR b", t0.AddMilliseconds(i));
        }
        Assert.Empty(h.ReadAlerts());
        h.Line("web-2", "ERROR c", t0.AddMilliseconds(10));
        var alert = Assert.Single(h.ReadAlerts());
        Assert.Equal("web-2", alert.Alert.Group["host.name"]);
    }

    [Fact]
    public void AWindowThatStillHoldsKeepsTheAlertFiringWithoutRepeatingIt()
    {
        using var h = new Harness(ErrorRule);
        var t0 = DateTime.UtcNow;
        for (int i = 0; i < 3; i++) h.Line("web-1", "ERROR x", t0.AddMilliseconds(i));
        Assert.Single(h.ReadAlerts());
        // Next window also crosses the threshold: no new firing, no resolve.
        for (int i = 0; i < 3; i++) h.Line("web-1", "ERROR y", t0.AddSeconds(10.5).AddMilliseconds(i));
        Assert.Empty(h.ReadAlerts());
    }

    [Fact]
    public void RecordsThatAreNotEventsGoToTheDeadLetterTopicWithTheirReason()
    {
        using var h = new Harness(ErrorRule);
        var garbage = Encoding.UTF8.GetBytes("{not json");
        h.Logs.PipeInput("web-1", garbage);
        h.Logs.PipeInput("web-1", Encoding.UTF8.GetBytes("""{"@timestamp":"2026-11-27T00:00:00Z","event":{"kind":"event","dataset":"ops.logs","id":"x"},"message":"m","log":{"file":{"path":"/a"},"offset":1}}"""));
        h.Line("web-1", "ERROR after the bad ones", DateTime.UtcNow);

        var letters = h.DeadLetters.ReadValueList().Select(v => EventSerializer.Deserialize(v, EventJsonContext.Default.DeadLetterEvent)).ToList();
        Assert.Equal(2, letters.Count);
        Assert.Equal("invalid_json", letters[0].DeadLetter.Reason);
        Assert.Equal(garbage, Convert.FromBase64String(letters[0].DeadLetter.Original));
        Assert.Equal(TopicCatalog.Logs.Name, letters[0].DeadLetter.Source.Topic);
        Assert.Equal("processors", letters[0].DeadLetter.Stage);
        Assert.Equal("missing_field", letters[1].DeadLetter.Reason);
        Assert.Contains("host.name", letters[1].Error.Message);
        Assert.Equal(letters[0].DeadLetter.Source.Offset + 1, letters[1].DeadLetter.Source.Offset);
    }

    [Fact]
    public void AnAverageRuleFiresWhenTheWindowClosesAboveTheThreshold()
    {
        var rule = new RuleConfig
        {
            Name = "slow", Source = "logs", Where = "true", GroupBy = ["host.name"],
            Aggregate = "avg(log.offset)", Op = ">", Threshold = 150, Window = "5s",
        };
        using var h = new Harness(rule);
        var t0 = DateTime.UtcNow;
        h.Line("web-1", "a", t0);                      // offset 100
        h.Line("web-1", "b", t0.AddMilliseconds(1));   // offset 200: avg 150, not > 150
        h.Line("web-1", "c", t0.AddMilliseconds(2));   // offset 300: avg 200
        Assert.Empty(h.ReadAlerts()); // an average can still fall: wait for the window to close
        var seen = new List<AlertEvent>();
        for (int s = 0; s < 14; s++)
        {
            h.Driver.AdvanceWallClockTime(TimeSpan.FromSeconds(1));
            seen.AddRange(h.ReadAlerts());
        }
        Assert.Equal([AlertStatus.Firing, AlertStatus.Resolved], seen.Select(a => a.Alert.Status));
        Assert.Equal(200, seen[0].Alert.Value);
    }

    [Fact]
    public void InternalTopicsAreNamedAfterTheApplicationAndTheRule()
    {
        var perFile = PerFile();
        var topics = ProcessorTopology.InternalTopics("app", [new ThresholdRule(ErrorRule), new ThresholdRule(perFile)]).ToList();
        // One store per rule, the evaluator's (windows and alert state), so one changelog.
        Assert.Contains(("app-rule-errors-state-changelog", TopicCatalog.Logs.Partitions), topics);
        Assert.Contains(("app-rule-per-file-state-changelog", TopicCatalog.Logs.Partitions), topics);
        Assert.Equal(3, topics.Count);
        Assert.Contains(("app-rule-per-file-repartition", TopicCatalog.Logs.Partitions), topics);
        // Grouped by host.name, the records' own key: aggregated where they are read, no repartition topic.
        Assert.DoesNotContain(("app-rule-errors-repartition", TopicCatalog.Logs.Partitions), topics);
    }

    private static RuleConfig PerFile() => new()
    {
        Name = "per-file", Source = "logs", Where = ErrorRule.Where, GroupBy = ["host.name", "log.file.path"],
        Aggregate = "count()", Op = ">=", Threshold = 3, Window = "10s",
    };

    [Fact]
    public void OnlyARuleThatReKeysGoesThroughARepartitionTopic()
    {
        var perFile = PerFile();
        var byHost = ProcessorTopology.Build([new ThresholdRule(ErrorRule)], Options()).Describe().ToString()!;
        var byFile = ProcessorTopology.Build([new ThresholdRule(perFile)], Options()).Describe().ToString()!;
        Assert.DoesNotContain("repartition", byHost);
        Assert.True(byFile.Contains("rule-per-file-repartition", StringComparison.Ordinal), byFile);

        static ProcessorTopology.Options Options() => new("app", "h", TimeSpan.FromSeconds(1), new ProcessorActivity(), TimeProvider.System);
    }

    [Fact]
    public void ARecordNotKeyedByItsHostIsDeadLetteredAndNotCountedForAnyGroup()
    {
        using var h = new Harness(ErrorRule);
        var t0 = DateTime.UtcNow;
        for (int i = 0; i < 3; i++) h.Line("web-1", "ERROR keyed by another host", t0.AddMilliseconds(i), key: "web-2");
        h.Line("web-1", "ERROR without a key", t0.AddMilliseconds(3), key: null);
        Assert.Empty(h.ReadAlerts());

        var letters = h.DeadLetters.ReadValueList().Select(v => EventSerializer.Deserialize(v, EventJsonContext.Default.DeadLetterEvent)).ToList();
        Assert.Equal(4, letters.Count);
        Assert.All(letters, l => Assert.Equal("key_mismatch", l.DeadLetter.Reason));
        Assert.Contains("record key 'web-2' is not the event's host.name 'web-1'", letters[0].Error.Message);
        Assert.Contains("record has no key", letters[3].Error.Message);

        // The same host's correctly keyed errors count from zero: none of the four above were counted.
        for (int i = 0; i < 2; i++) h.Line("web-1", "ERROR keyed right", t0.AddMilliseconds(10 + i));
        Assert.Empty(h.ReadAlerts());
        h.Line("web-1", "ERROR keyed right", t0.AddMilliseconds(20));
        var alert = Assert.Single(h.ReadAlerts());
        Assert.Equal(3, alert.Alert.Value);
        Assert.Equal("web-1", alert.Alert.Group["host.name"]);
    }
}
