using Pipeline.Producers.Probes;

namespace Pipeline.Tests.Producers.Probes;

/// <summary>Flap suppression: a condition flips only after the configured run of results, and only then moves its transition time.</summary>
public sealed class ConditionTrackerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void TheConditionTurnsTrueOnlyAfterFailureThresholdProblemsInARow()
    {
        var tracker = new ConditionTracker(failureThreshold: 3, successThreshold: 2);
        Assert.True(tracker.Observe(ProbeStatus.Ok, T0) is false && tracker.Status == ConditionStatus.Unknown);
        Assert.True(tracker.Observe(ProbeStatus.Ok, T0.AddSeconds(1)));
        Assert.Equal(ConditionStatus.False, tracker.Status);
        var since = tracker.LastTransition;

        // Two problems, an OK, two problems: flapping, never three in a row.
        foreach (var s in new[] { ProbeStatus.Problem, ProbeStatus.Problem, ProbeStatus.Ok, ProbeStatus.Problem, ProbeStatus.Problem })
            Assert.False(tracker.Observe(s, T0.AddSeconds(5)));
        Assert.Equal((ConditionStatus.False, since), (tracker.Status, tracker.LastTransition));

        Assert.True(tracker.Observe(ProbeStatus.Problem, T0.AddSeconds(10)));
        Assert.Equal((ConditionStatus.True, T0.AddSeconds(10)), (tracker.Status, tracker.LastTransition));

        // More problems keep it True without moving the transition time.
        Assert.False(tracker.Observe(ProbeStatus.Problem, T0.AddSeconds(11)));
        Assert.Equal(T0.AddSeconds(10), tracker.LastTransition);

        Assert.False(tracker.Observe(ProbeStatus.Ok, T0.AddSeconds(12)));
        Assert.True(tracker.Observe(ProbeStatus.Ok, T0.AddSeconds(13)));
        Assert.Equal((ConditionStatus.False, T0.AddSeconds(13)), (tracker.Status, tracker.LastTransition));
    }

    [Fact]
    public void AnUnknownResultBreaksStreaksAndChangesNothing()
    {
        var tracker = new ConditionTracker(2, 1);
        tracker.Observe(ProbeStatus.Ok, T0);
        tracker.Observe(ProbeStatus.Problem, T0);
        tracker.Observe(ProbeStatus.Unknown, T0);
        Assert.False(tracker.Observe(ProbeStatus.Problem, T0));
        Assert.Equal(ConditionStatus.False, tracker.Status);
    }

    [Fact]
    public void ARestoredStateIsKeptUntilTheResultsReallyDisagree()
    {
        var tracker = new ConditionTracker(1, 1);
        var before = T0.AddHours(-5);
        tracker.Restore(ConditionStatus.True, before);
        Assert.False(tracker.Observe(ProbeStatus.Problem, T0));
        Assert.Equal((ConditionStatus.True, before), (tracker.Status, tracker.LastTransition));
    }
}
