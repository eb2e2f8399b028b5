using System.Diagnostics;

namespace Pipeline.Producers.Probes;

/// <summary>
/// Runs one probe once under its timeout and turns whatever happens (an answer, a timeout, an exception,
/// a run that ignores cancellation) into a <see cref="ProbeReport"/>. Shared by the scheduler and
/// <c>pipeline probe run --once</c>, so both report the same way.
/// </summary>
public static class ProbeRunner
{
    public static async Task<ProbeReport> RunAsync(ScheduledProbe probe, CancellationToken stop)
    {
        var time = DateTimeOffset.UtcNow;
        long started = Stopwatch.GetTimestamp();
        var result = await RunCheckAsync(probe, stop).ConfigureAwait(false);
        double ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        ConditionStatus status;
        DateTimeOffset since;
        bool flipped;
        lock (probe.Condition)
        {
            flipped = probe.Condition.Observe(result.Status, time);
            status = probe.Condition.Status;
            since = probe.Condition.LastTransition;
        }
        return new ProbeReport(probe, time, result, ms, status, since, flipped);
    }

    private static async Task<ProbeResult> RunCheckAsync(ScheduledProbe probe, CancellationToken stop)
    {
        if (probe.Abandoned is { IsCompleted: false })
            return ProbeResult.Problem(ProbeReasons.Timeout, $"the previous run is still hung after its {Plumbing.Config.Duration.Format(probe.Timeout)} timeout; not started again");
        probe.Abandoned = null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(probe.Timeout);
        Task<ProbeResult> run;
        try
        {
            run = probe.Probe.RunAsync(timeout.Token).AsTask();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Failed(e);
        }
        try
        {
            // WaitAsync, not just the token: a run blocked in a syscall (statvfs on a dead NFS server) never
            // looks at the token, and must still not hold its slot past the timeout.
            return await run.WaitAsync(probe.Timeout, stop).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The WaitAsync timer can fire before the token's own: cancel now, before the source is disposed,
            // or a run that does honour its token (exec kills its process tree on it) would never be told.
            await timeout.CancelAsync().ConfigureAwait(false);
            probe.Abandoned = run;
            _ = run.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default); // observe a late failure
            return TimedOut(probe);
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            return TimedOut(probe);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Failed(e);
        }
    }

    private static ProbeResult TimedOut(ScheduledProbe probe)
        => ProbeResult.Problem(ProbeReasons.Timeout, $"no answer within the {Plumbing.Config.Duration.Format(probe.Timeout)} timeout");

    private static ProbeResult Failed(Exception e) => ProbeResult.Unknown(ProbeReasons.Error, $"the check failed: {e.GetType().Name}: {e.Message}");
}
