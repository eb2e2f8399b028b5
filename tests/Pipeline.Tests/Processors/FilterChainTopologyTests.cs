using System.Text.Json;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Filters;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;

namespace Pipeline.Tests.Processors;

/// <summary>Filter chains in the processors: before the rules, into *.filtered, and failing safely.</summary>
public class FilterChainTopologyTests
{
    private static readonly RuleConfig CountErrors = new()
    {
        Name = "errors", Source = "logs", Where = "log.level == \"error\"", GroupBy = ["host.name"],
        Aggregate = "count()", Op = ">=", Threshold = 2, Window = "1m",
    };

    [Fact]
    public void TheChainRunsBeforeTheRulesAndItsOutputIsWrittenToTheFilteredTopic()
    {
        FilterConfig[] chain =
        [
            new() { Type = "drop", Source = "logs", Where = "message contains \"healthcheck\"" },
            new() { Type = "redact", Source = "logs" },
            new() { Type = "add_fields", Source = "logs", Fields = new() { ["labels.team"] = "payments" } },
        ];
        using var h = new ProcessorTopologyTests.Harness(chain, writeFiltered: true, CountErrors);
        var t0 = DateTime.UtcNow;
        h.Line("web-1", "ERROR healthcheck failed", t0);
        h.Line("web-1", "ERROR login failed password=hunter2", t0.AddMilliseconds(1));
        Assert.Empty(h.ReadAlerts()); // the dropped healthcheck error did not count

        var filtered = h.Filtered.ReadValueList().Select(v => JsonDocument.Parse(v).RootElement).ToList();
        var only = Assert.Single(filtered);
        Assert.Equal("ERROR login failed password=[REDACTED]", only.GetProperty("message").GetString());
        Assert.Equal("payments", only.GetProperty("labels").GetProperty("team").GetString());

        h.Line("web-1", "ERROR again", t0.AddMilliseconds(2));
        Assert.Single(h.ReadAlerts());
    }

    [Fact]
    public void AFilterThatThrowsDeadLettersTheEventWhenToldToAndTheStreamGoesOn()
    {
        FilterConfig[] chain =
        [
            // A catastrophic pattern: its 50 ms match timeout throws on this input.
            new() { Type = "regex", Source = "logs", Pattern = "^(?<run>a+)+$", OnError = "deadletter" },
        ];
        using var h = new ProcessorTopologyTests.Harness(chain, writeFiltered: true, CountErrors);
        h.Line("web-1", new string('a', 5000) + "!", DateTime.UtcNow);
        h.Line("web-1", "ok line", DateTime.UtcNow);
        var letter = EventSerializer.Deserialize(Assert.Single(h.DeadLetters.ReadValueList()), EventJsonContext.Default.DeadLetterEvent);
        Assert.Equal("filter_error", letter.DeadLetter.Reason);
        Assert.Contains("regex", letter.Error.Message);
        Assert.Equal("ok line", JsonDocument.Parse(Assert.Single(h.Filtered.ReadValueList())).RootElement.GetProperty("message").GetString());
    }

    [Fact]
    public void ReplacingTheChainsTakesEffectForTheNextRecord()
    {
        var chains = new Pipeline.Processors.Filtering.SourceFilterChains([], new FilterFactory());
        Assert.True(chains.For("ops.logs.v1").IsEmpty);
        chains.Replace([new FilterConfig { Type = "drop", Source = "logs", Where = "true" }], new FilterFactory());
        Assert.Equal(1, chains.For("ops.logs.v1").Count);
        // An invalid chain is refused and the old one stays.
        Assert.Throws<ArgumentException>(() => chains.Replace([new FilterConfig { Type = "nope", Source = "logs" }], new FilterFactory()));
        Assert.Equal(1, chains.For("ops.logs.v1").Count);
    }
}
