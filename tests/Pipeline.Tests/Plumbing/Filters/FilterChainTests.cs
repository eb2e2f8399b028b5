using System.Text;
using Pipeline.Plumbing.Filters;
using Pipeline.Plumbing.Telemetry;

namespace Pipeline.Tests.Plumbing.Filters;

/// <summary>The chain: order, dropping, and what a filter that throws does to its event.</summary>
public class FilterChainTests
{
    [Fact]
    public void FiltersRunInOrderAndADropStopsTheChain()
    {
        var chain = new FilterFactory().CreateChain(
        [
            new FilterConfig { Type = "regex", Pattern = @"(?<status>\d{3})$" },
            new FilterConfig { Type = "drop", Where = "status == \"200\"" },
            new FilterConfig { Type = "add_fields", Fields = new() { ["seen"] = "yes" } },
        ], "chain-test");
        var ok = BuiltInFilterTests.Event();
        Assert.Equal(FilterOutcome.Drop, chain.Run(ok, out _));
        Assert.Null(ok.GetString("seen"));

        var failed = BuiltInFilterTests.Event("""{"message":"GET /orders 500"}""");
        Assert.Equal(FilterOutcome.Keep, chain.Run(failed, out var error));
        Assert.Null(error);
        Assert.Equal("yes", failed.GetString("seen"));
        Assert.Equal(3, chain.Count);
    }

    [Fact]
    public void AThrowingFilterWithPassKeepsTheEventAndSaysItFailed()
    {
        var chain = new FilterChain([(new Throwing("boom-pass"), false), (new Marking(), false)], "chain-test");
        double before = PipelineMetrics.FilterErrors.WithLabels("chain-test", "boom-pass").Value;
        var e = BuiltInFilterTests.Event();
        Assert.Equal(FilterOutcome.Keep, chain.Run(e, out var error, out bool failed));
        Assert.True(failed);
        Assert.Contains("boom-pass", error);
        // The short form keeps its contract: an error only with a dead letter.
        Assert.Equal(FilterOutcome.Keep, chain.Run(BuiltInFilterTests.Event(), out var shortError));
        Assert.Null(shortError);
        Assert.Equal(before + 2, PipelineMetrics.FilterErrors.WithLabels("chain-test", "boom-pass").Value);
    }

    [Fact]
    public void AThrowingFilterWithDeadletterSendsTheEventThereWithTheReason()
    {
        var chain = new FilterFactory().CreateChain([new FilterConfig { Type = "add_fields", Fields = new() { ["a"] = "1" } }], "x");
        Assert.False(chain.IsEmpty);
        var dead = new FilterChain([(new Throwing("boom-dead"), true)], "chain-test");
        Assert.Equal(FilterOutcome.DeadLetter, dead.Run(BuiltInFilterTests.Event(), out var error));
        Assert.Equal("filter boom-dead failed: InvalidOperationException: bad event", error);
    }

    [Fact]
    public void OnErrorFromConfigSelectsThePolicy()
    {
        var factory = new FilterFactory();
        Assert.True(FilterChain.Empty.IsEmpty);
        var chain = factory.CreateChain([new FilterConfig { Type = "json", OnError = "deadletter" }], "x");
        // json never throws on bad input (it flags it): the policy only matters for real failures.
        Assert.Equal(FilterOutcome.Keep, chain.Run(FilterEvent.Parse(Encoding.UTF8.GetBytes("""{"message":"{bad"}""")), out _));
    }

    private sealed class Throwing(string name) : IEventFilter
    {
        public string Name => name;
        public bool Apply(FilterEvent e)
        {
            e.Set("half", System.Text.Json.Nodes.JsonValue.Create("changed"));
            throw new InvalidOperationException("bad event");
        }
    }

    private sealed class Marking : IEventFilter
    {
        public string Name => "marking";
        public bool Apply(FilterEvent e)
        {
            e.Set("marked", System.Text.Json.Nodes.JsonValue.Create(true));
            return true;
        }
    }
}
