using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace Pipeline.Plumbing.Telemetry;

/// <summary>
/// Feeds systemd's watchdog (<c>WatchdogSec=</c>) with <c>WATCHDOG=1</c>, but only while each of
/// <c>stages</c> (the ones this process runs) that has started keeps beating (<see cref="StageProgress"/>). A process whose loops hang stays alive
/// and would keep a timer-only watchdog happy; this one goes quiet instead, so systemd kills and
/// restarts it. The notification itself goes through Microsoft.Extensions.Hosting.Systemd's notifier.
/// </summary>
public sealed class SystemdWatchdog(ISystemdNotifier notifier, TimeSpan interval, IReadOnlyCollection<string> stages, ILogger<SystemdWatchdog> logger) : BackgroundService
{
    /// <summary>A stage silent for longer than this counts as stuck: half the watchdog interval, so one missed check still leaves time to notice.</summary>
    public TimeSpan StallLimit { get; } = interval / 2;

    /// <summary>Checks four times per interval, as sd_watchdog_enabled(3) advises feeding at least twice.</summary>
    public TimeSpan CheckEvery { get; } = interval / 4;

    /// <summary>
    /// The watchdog systemd asked for through <c>WATCHDOG_USEC</c> (and <c>WATCHDOG_PID</c>, when set, naming this
    /// process), or null when there is none: outside systemd, or without <c>WatchdogSec=</c>.
    /// </summary>
    public static TimeSpan? IntervalFromEnvironment() => Interval(
        Environment.GetEnvironmentVariable("WATCHDOG_USEC"), Environment.GetEnvironmentVariable("WATCHDOG_PID"), Environment.ProcessId);

    internal static TimeSpan? Interval(string? watchdogUsec, string? watchdogPid, int processId)
    {
        if (!long.TryParse(watchdogUsec, NumberStyles.None, CultureInfo.InvariantCulture, out var micros) || micros <= 0) return null;
        // A child the service started inherits the variables; only the process systemd meant may feed.
        if (!string.IsNullOrEmpty(watchdogPid) && watchdogPid != processId.ToString(CultureInfo.InvariantCulture)) return null;
        return TimeSpan.FromMicroseconds(micros);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        logger.LogInformation("systemd watchdog every {Interval}: fed while every stage's loop turns at least every {Stall}", interval, StallLimit);
        string? stalled = null;
        using var timer = new PeriodicTimer(CheckEvery);
        do
        {
            var stuck = stages.Where(s => StageProgress.SinceLastBeat(s) > StallLimit).ToList();
            if (stuck.Count == 0)
            {
                notifier.Notify(new ServiceState("WATCHDOG=1"));
                if (stalled is not null) logger.LogInformation("every stage is turning again; feeding the systemd watchdog");
                stalled = null;
            }
            else if (stalled is null)
            {
                stalled = string.Join(", ", stuck);
                logger.LogCritical("{Stages} made no progress for over {Stall}; no longer feeding the systemd watchdog, which will restart this service", stalled, StallLimit);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
