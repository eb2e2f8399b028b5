using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Telemetry;

namespace Pipeline.Producers.Probes;

/// <summary>
/// Runs every configured probe on its own interval, at most <c>probe_runner.concurrency</c> at a time, and
/// hands each result to the sinks (Kafka, node conditions). Each probe has its own loop on a drift-free
/// schedule, so a slow or hung probe only ever delays itself: its run is abandoned at its timeout and its
/// concurrency slot freed. First runs are spread, in two 500 ms waves, over the first second (or the interval, if shorter) so
/// a few hundred probes do not all start in the same millisecond, the way Prometheus spreads scrapes.
/// </summary>
public sealed class ProbeScheduler : BackgroundService
{
    private static readonly TimeSpan MaxSpread = TimeSpan.FromSeconds(1);
    private static readonly long SpreadStep = Stopwatch.Frequency / 2;

    private readonly IReadOnlyList<ScheduledProbe> _probes;
    private readonly IProbeReportSink[] _sinks;
    private readonly SemaphoreSlim _slots;
    private readonly int _concurrency;
    private readonly ILogger _logger;

    public ProbeScheduler(PipelineConfig config, IEnumerable<IProbeReportSink> sinks, ILogger<ProbeScheduler> logger)
        : this(ProbeFactory.CreateAll(config.Probes), config.ProbeRunner.Concurrency, sinks, logger)
    {
    }

    public ProbeScheduler(IReadOnlyList<ScheduledProbe> probes, int concurrency, IEnumerable<IProbeReportSink> sinks, ILogger logger)
    {
        _probes = probes;
        _sinks = [.. sinks];
        _concurrency = concurrency;
        _slots = new SemaphoreSlim(concurrency, concurrency);
        _logger = logger;
    }

    public IReadOnlyList<ScheduledProbe> Probes => _probes;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _logger.LogInformation("probe scheduler started: {Count} probe(s), at most {Concurrency} at a time", _probes.Count, _concurrency);
        long start = Stopwatch.GetTimestamp();
        var loops = new Task[_probes.Count];
        for (int i = 0; i < _probes.Count; i++)
        {
            var probe = _probes[i];
            var spread = probe.Interval < MaxSpread ? probe.Interval : MaxSpread;
            long phase = (long)(spread.TotalSeconds * Stopwatch.Frequency * i / _probes.Count);
            // Spread in two waves a second, not evenly: probes due in the same wave wake the process once
            // between them. Each wake-up of a sleeping thread (timer, thread pool, Kafka client) costs far more
            // CPU than a cheap probe itself: 200 probes at 1 s took 16.6% of a core spread evenly, 7.0% in
            // 50 ms steps, 2.8% in 500 ms steps, with p99 scheduling lag 5 -> 9 ms (bench/probes.sh).
            phase -= phase % SpreadStep;
            loops[i] = LoopAsync(probe, start + phase, stoppingToken);
        }
        try
        {
            await Task.WhenAll(loops).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        _logger.LogInformation("probe scheduler stopped");
    }

    private async Task LoopAsync(ScheduledProbe probe, long due, CancellationToken stop)
    {
        await Task.Yield(); // never run a probe on the caller's stack: ExecuteAsync must return at once
        long interval = (long)(probe.Interval.TotalSeconds * Stopwatch.Frequency);
        var runs = new Prometheus.Counter.Child[3];
        for (int s = 0; s < runs.Length; s++) runs[s] = PipelineMetrics.ProbeRuns.WithLabels(probe.Name, ProbeStatusText.Of((ProbeStatus)s));
        var duration = PipelineMetrics.ProbeDuration.WithLabels(probe.Name);
        var condition = probe.Config.Condition.Length > 0 ? PipelineMetrics.ProbeConditions.WithLabels(probe.Name, probe.Config.Condition) : null;
        var lastStatus = (ProbeStatus)255;
        while (!stop.IsCancellationRequested)
        {
            long wait = due - Stopwatch.GetTimestamp();
            if (wait > 0) await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), stop).ConfigureAwait(false);
            await _slots.WaitAsync(stop).ConfigureAwait(false);
            if (stop.IsCancellationRequested)
            {
                // Stopping: a slot freed by a run abandoned at shutdown must not start another.
                _slots.Release();
                return;
            }
            ProbeReport report;
            try
            {
                long lag = Stopwatch.GetTimestamp() - due;
                PipelineMetrics.ProbeScheduleLag.Observe(Math.Max(0, (double)lag / Stopwatch.Frequency));
                report = await ProbeRunner.RunAsync(probe, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            finally
            {
                _slots.Release();
            }
            runs[(int)report.Result.Status].Inc();
            duration.Observe(report.DurationMs / 1000);
            condition?.Set(report.ConditionStatus switch { ConditionStatus.True => 1, ConditionStatus.False => 0, _ => -1 });
            LogChange(report, lastStatus);
            lastStatus = report.Result.Status;
            Deliver(report);

            due += interval;
            long now = Stopwatch.GetTimestamp();
            if (due <= now)
            {
                // The run took longer than the interval: skip the missed slots instead of running back to back.
                due += (now - due) / interval * interval + interval;
            }
        }
    }

    private void LogChange(ProbeReport report, ProbeStatus lastStatus)
    {
        var r = report.Result;
        if (report.ConditionFlipped)
            _logger.LogInformation("probe {Probe}: condition {Condition} is now {Status} ({Reason}: {Message})",
                report.Probe.Name, report.Probe.Config.Condition.Length > 0 ? report.Probe.Config.Condition : "(none)", ProbeStatusText.Of(report.ConditionStatus), r.Reason, r.Message);
        else if (r.Status != lastStatus && r.Status != ProbeStatus.Ok)
            _logger.LogWarning("probe {Probe}: {Status} ({Reason}: {Message})", report.Probe.Name, ProbeStatusText.Of(r.Status), r.Reason, r.Message);
    }

    private void Deliver(ProbeReport report)
    {
        foreach (var sink in _sinks)
        {
            try
            {
                sink.Report(report);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _logger.LogError(e, "probe {Probe}: {Sink} failed to take the result", report.Probe.Name, sink.GetType().Name);
            }
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        foreach (var probe in _probes)
        {
            if (probe.Probe is IDisposable disposable) disposable.Dispose();
        }
        _slots.Dispose();
    }
}
