using Pipeline.Plumbing.Config;
using Pipeline.Schemas.Events;

namespace Pipeline.Tests.Processors;

/// <summary>The rule engine's behaviours, one scenario each, on Streamiz's TopologyTestDriver.</summary>
public class RuleScenarioTests
{
    private static RuleConfig Rule(Action<RuleConfig>? tweak = null)
    {
        var r = new RuleConfig
        {
            Name = "r", Source = "logs", Where = "log.level == \"error\"", GroupBy = ["host.name"],
            Aggregate = "count()", Op = ">=", Threshold = 2, Window = "10s", Severity = "warning",
        };
        tweak?.Invoke(r);
        return r;
    }

    private static List<string> Advance(ProcessorTopologyTests.Harness h, int seconds)
    {
        var statuses = new List<string>();
        for (int i = 0; i < seconds; i++)
        {
            h.Driver.AdvanceWallClockTime(TimeSpan.FromSeconds(1));
            statuses.AddRange(h.ReadAlerts().Select(a => a.Alert.Status));
        }
        return statuses;
    }

    [Fact]
    public void ForDelaysFiringUntilTheConditionHasHeldThatLong()
    {
        using var h = new ProcessorTopologyTests.Harness(Rule(r => { r.For = "5s"; r.Window = "2s"; }));
        var t0 = DateTime.UtcNow;
        h.Line("web-1", "ERROR a", t0);
        h.Line("web-1", "ERROR b", t0.AddMilliseconds(1));
        Assert.Empty(h.ReadAlerts()); // holds, but not for 5 s yet
        // Keep it holding: two errors in every 2 s window for 8 s.
        var statuses = new List<(int Second, string Status)>();
        for (int s = 1; s <= 8; s++)
        {
            h.Line("web-1", "ERROR c", t0.AddSeconds(s));
            h.Line("web-1", "ERROR d", t0.AddSeconds(s).AddMilliseconds(1));
            h.Driver.AdvanceWallClockTime(TimeSpan.FromSeconds(1));
            statuses.AddRange(h.ReadAlerts().Select(a => (s, a.Alert.Status)));
        }
        var fired = Assert.Single(statuses);
        Assert.Equal(AlertStatus.Firing, fired.Status);
        Assert.InRange(fired.Second, 5, 7);
    }

    [Fact]
    public void AConditionThatStopsBeforeForElapsesNeverFires()
    {
        using var h = new ProcessorTopologyTests.Harness(Rule(r => { r.For = "30s"; r.Window = "2s"; }));
        var t0 = DateTime.UtcNow;
        h.Line("web-1", "ERROR a", t0);
        h.Line("web-1", "ERROR b", t0.AddMilliseconds(1));
        Assert.Empty(Advance(h, 40));
    }

    [Fact]
    public void RepeatIntervalReannouncesAStillFiringAlert()
    {
        using var h = new ProcessorTopologyTests.Harness(Rule(r => { r.RepeatInterval = "3s"; r.Window = "60s"; }));
        var t0 = DateTime.UtcNow;
        h.Line("web-1", "ERROR a", t0);
        h.Line("web-1", "ERROR b", t0.AddMilliseconds(1));
        var first = Assert.Single(h.ReadAlerts());
        var repeats = new List<AlertEvent>();
        for (int i = 0; i < 7; i++)
        {
            h.Driver.AdvanceWallClockTime(TimeSpan.FromSeconds(1));
            repeats.AddRange(h.ReadAlerts());
        }
        Assert.Equal(2, repeats.Count);
        Assert.All(repeats, a =>
        {
            Assert.Equal(AlertStatus.Firing, a.Alert.Status);
            Assert.Equal(first.Alert.Fingerprint, a.Alert.Fingerprint);
            Assert.Equal(first.Alert.StartedAt, a.Alert.StartedAt);
            Assert.Equal("repeat", a.Event.Action);
        });
        Assert.Equal(2, repeats.Select(a => a.Event.Id).Append(first.Event.Id).Distinct().Count() - 1);
    }

    [Fact]
    public void HoppingWindowsSeeABurstThatStraddlesTumblingBoundaries()
    {
        // 2 errors 1 s apart straddling a 10 s boundary: a tumbling window never holds both, a hopping one (every 2 s) does.
        var boundary = DateTime.UnixEpoch.AddSeconds(Math.Ceiling((DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds / 10) * 10 + 10);
        using (var tumbling = new ProcessorTopologyTests.Harness(Rule()))
        {
            tumbling.Line("web-1", "ERROR a", boundary.AddMilliseconds(-500));
            tumbling.Line("web-1", "ERROR b", boundary.AddMilliseconds(500));
            Assert.Empty(tumbling.ReadAlerts());
        }
        using var hopping = new ProcessorTopologyTests.Harness(Rule(r => r.Every = "2s"));
        hopping.Line("web-1", "ERROR a", boundary.AddMilliseconds(-500));
        hopping.Line("web-1", "ERROR b", boundary.AddMilliseconds(500));
        var alert = Assert.Single(hopping.ReadAlerts());
        Assert.Equal(AlertStatus.Firing, alert.Alert.Status);
    }

    [Fact]
    public void EventsLaterThanTheGraceAreDroppedAndCounted()
    {
        using var h = new ProcessorTopologyTests.Harness(Rule(r => r.Threshold = 3));
        var before = Pipeline.Plumbing.Telemetry.PipelineMetrics.LateEvents.WithLabels("r").Value;
        var t0 = DateTime.UtcNow;
        h.Line("web-1", "ERROR now", t0);
        h.Line("web-1", "ERROR now", t0.AddMilliseconds(1));
        // Two minutes late: its window closed long ago. It must not complete today's count nor crash.
        h.Line("web-1", "ERROR old", t0.AddMinutes(-2));
        Assert.Empty(h.ReadAlerts());
        Assert.Equal(before + 1, Pipeline.Plumbing.Telemetry.PipelineMetrics.LateEvents.WithLabels("r").Value);
    }

    [Fact]
    public void AnAbsentRuleFiresWhenAGroupGoesSilentAndResolvesWhenItReturns()
    {
        using var h = new ProcessorTopologyTests.Harness(Rule(r => { r.Kind = "absent"; r.Where = "true"; r.Window = "5s"; }));
        var t0 = DateTime.UtcNow;
        h.Line("web-1", "heartbeat", t0);
        h.Line("web-2", "heartbeat", t0);
        var statuses = new List<(string Host, string Status)>();
        for (int s = 1; s <= 12; s++)
        {
            h.Line("web-2", "heartbeat", t0.AddSeconds(s)); // web-2 keeps talking
            h.Driver.AdvanceWallClockTime(TimeSpan.FromSeconds(1));
            statuses.AddRange(h.ReadAlerts().Select(a => (a.Host.Name, a.Alert.Status)));
        }
        Assert.Equal([("web-1", AlertStatus.Firing)], statuses);
        h.Line("web-1", "back", t0.AddSeconds(13));
        var resolved = Assert.Single(h.ReadAlerts());
        Assert.Equal(AlertStatus.Resolved, resolved.Alert.Status);
    }

    [Fact]
    public void RateIsEventsPerSecondOverTheWindow()
    {
        using var h = new ProcessorTopologyTests.Harness(Rule(r => { r.Aggregate = "rate()"; r.Threshold = 0.5; r.Window = "10s"; }));
        var t0 = DateTime.UtcNow;
        for (int i = 0; i < 4; i++) h.Line("web-1", "ERROR x", t0.AddMilliseconds(i));
        Assert.Empty(h.ReadAlerts()); // 0.4/s
        h.Line("web-1", "ERROR y", t0.AddMilliseconds(5));
        Assert.Equal(0.5, Assert.Single(h.ReadAlerts()).Alert.Value);
    }
}

public class BuiltInRuleTests
{
    [Fact]
    public void EveryBuiltInRuleCompilesAndPassesTheSameValidationAsAUserRule()
    {
        foreach (var rule in BuiltInRules.All)
        {
            var compiled = new Pipeline.Processors.Rules.ThresholdRule(rule);
            Assert.NotNull(compiled.Where);
            var toml = $"""
                [processors]
                default_rules = false
                [[rules]]
                name = "{rule.Name}"
                source = "{rule.Source}"
                where = '{rule.Where}'
                aggregate = "{rule.Aggregate}"
                op = "{rule.Op}"
                threshold = {rule.Threshold}
                window = "{rule.Window}"
                for = "{rule.For}"
                severity = "{rule.Severity}"
                """;
            ConfigLoader.Parse(toml, rule.Name + ".toml");
        }
    }

    [Fact]
    public void TheBuiltInsCoverTheDocumentedDefaults()
        => Assert.Equal(["error-logs", "host-memory", "node-condition", "oom-kill", "probe-problem", "process-cpu"], BuiltInRules.All.Select(r => r.Name).Order());
}
