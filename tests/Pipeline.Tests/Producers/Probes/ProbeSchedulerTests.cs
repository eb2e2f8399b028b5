using System.Collections.Concurrent;
using Pipeline.Plumbing.Config;
using Pipeline.Producers.Probes;

namespace Pipeline.Tests.Producers.Probes;

/// <summary>
/// Probe and Kubernetes tests that wait on real time or start servers and processes run here, apart from
/// everything else: on two cores they would skew each other's timing, and the processors' tests' timing.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProbeTimingCollection
{
    public const string Name = "probe timing";
}

[Collection(ProbeTimingCollection.Name)]
public sealed class ProbeSchedulerTests
{
    private sealed class Collected : IProbeReportSink
    {
        public ConcurrentQueue<ProbeReport> Reports { get; } = new();
        public void Report(ProbeReport report) => Reports.Enqueue(report);
        public List<ProbeReport> Of(string name) => [.. Reports.Where(r => r.Probe.Name == name)];
    }

    private static ScheduledProbe Probe(string name, IProbe probe, string interval, string timeout = "5s", Action<ProbeConfig>? configure = null)
    {
        var config = new ProbeConfig { Name = name, Type = "exec", Interval = interval, Timeout = timeout };
        configure?.Invoke(config);
        return new ScheduledProbe(config, probe);
    }

    /// <summary>Runs the probes until <paramref name="done"/> holds (bounded), not for a fixed time: on a loaded machine time is not a count.</summary>
    private static async Task RunUntil(Func<Collected, bool> done, int concurrency, Collected sink, params ScheduledProbe[] probes)
    {
        using var scheduler = new ProbeScheduler(probes, concurrency, [sink], new Logs.TestOutputLogger<ProbeScheduler>(TestContext.Current.TestOutputHelper));
        await scheduler.StartAsync(TestContext.Current.CancellationToken);
        await Pipeline.Testing.Eventually.True(() => done(sink), TimeSpan.FromSeconds(30), "enough probe runs");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await scheduler.StopAsync(timeout.Token);
        if (scheduler.ExecuteTask is { IsFaulted: true } failed) throw failed.Exception!;
    }

    [Fact]
    public async Task AHungProbeNeverDelaysTheOthersAndIsNotStartedAgainWhileHung()
    {
        var hung = ScriptedProbe.Hung();
        var fast = ScriptedProbe.Sequence(ProbeStatus.Ok);
        var sink = new Collected();
        // One slot only: the hung run must give it back at its timeout, or the fast probe would starve.
        await RunUntil(s => s.Of("fast").Count >= 15 && s.Of("hung").Count >= 4, concurrency: 1, sink,
            Probe("hung", hung, interval: "300ms", timeout: "200ms"),
            Probe("fast", fast, interval: "100ms"));

        Assert.Equal(1, hung.Started);
        var hungReports = sink.Of("hung");
        Assert.All(hungReports, r => Assert.Equal((ProbeStatus.Problem, ProbeReasons.Timeout), (r.Result.Status, r.Result.Reason)));
        Assert.Contains("still hung", hungReports[^1].Result.Message);
    }

    [Fact]
    public async Task NoMoreThanTheConcurrencyLimitRunAtOnce()
    {
        int running = 0, max = 0;
        async Task<ProbeResult> Slow(int i, CancellationToken ct)
        {
            int now = Interlocked.Increment(ref running);
            // At shutdown runs are abandoned, not awaited; only count the ones started in earnest.
            if (!ct.IsCancellationRequested) lock (this) max = Math.Max(max, now);
            try { await Task.Delay(150, ct); }
            finally { Interlocked.Decrement(ref running); }
            return ProbeResult.Ok("slept");
        }
        var sink = new Collected();
        // A long timeout: a run abandoned at its timeout gives its slot back, which would be a third one running.
        var probes = Enumerable.Range(0, 6).Select(i => Probe($"p{i}", new ScriptedProbe(Slow), interval: "200ms", timeout: "60s")).ToArray();
        await RunUntil(s => s.Reports.Count >= 12, concurrency: 2, sink, probes);
        Assert.Equal(2, max);
    }

    [Fact]
    public async Task ReportsCarryTheFlapSuppressedCondition()
    {
        var probe = ScriptedProbe.Sequence(
            ProbeStatus.Ok, ProbeStatus.Problem, ProbeStatus.Ok, ProbeStatus.Problem, ProbeStatus.Problem, ProbeStatus.Ok, ProbeStatus.Ok);
        var sink = new Collected();
        await RunUntil(s => s.Reports.Count >= 7, 4, sink, Probe("flappy", probe, interval: "100ms", configure: c =>
        {
            c.Condition = "FlappyService";
            c.FailureThreshold = 2;
            c.SuccessThreshold = 2;
        }));
        var conditions = sink.Of("flappy").Take(7).Select(r => r.ConditionStatus).ToArray();
        Assert.Equal(
            [ConditionStatus.Unknown, ConditionStatus.Unknown, ConditionStatus.Unknown, ConditionStatus.Unknown, ConditionStatus.True, ConditionStatus.True, ConditionStatus.False],
            conditions);
        Assert.Equal([false, false, false, false, true, false, true], sink.Of("flappy").Take(7).Select(r => r.ConditionFlipped).ToArray());
    }
}
