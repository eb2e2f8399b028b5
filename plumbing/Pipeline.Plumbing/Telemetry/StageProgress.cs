using System.Collections.Concurrent;

namespace Pipeline.Plumbing.Telemetry;

/// <summary>
/// A heartbeat each stage's main loop bumps once per turn. It says "this loop is still turning", which
/// is what systemd's watchdog should check (<see cref="SystemdWatchdog"/>): a stage whose loop is stuck
/// stops beating even though the process is alive. A beat also says whether the turn found nothing left
/// to do, which is how <c>pipeline agent --once</c> knows the files are shipped.
/// </summary>
/// <remarks>Static, like <see cref="PipelineMetrics"/>, so a stage needs one call and no wiring.</remarks>
public static class StageProgress
{
    /// <summary>The log tailer's loop (producers).</summary>
    public const string LogTailer = "producers.logs";

    /// <summary>The event sink's loop.</summary>
    public const string EventSink = "sinks";

    /// <summary>The processors' stream thread: it beats from inside its consumer's poll, about every 5 s, idle or not.</summary>
    public const string Processors = "processors";

    private static readonly ConcurrentDictionary<string, Heartbeat> Beats = new(StringComparer.Ordinal);

    /// <summary>
    /// Records one turn of <paramref name="stage"/>'s loop. <paramref name="caughtUp"/>: the turn found
    /// no new input (every file read to its end).
    /// </summary>
    public static void Beat(string stage, bool caughtUp = false)
    {
        var beat = Beats.GetOrAdd(stage, static _ => new Heartbeat());
        long now = Environment.TickCount64;
        Volatile.Write(ref beat.LastTicks, now);
        if (caughtUp) Volatile.Write(ref beat.LastCaughtUpTicks, now);
    }

    /// <summary>How long ago <paramref name="stage"/> last beat, or null if it never has.</summary>
    public static TimeSpan? SinceLastBeat(string stage)
        => Beats.TryGetValue(stage, out var beat) ? TimeSpan.FromMilliseconds(Environment.TickCount64 - Volatile.Read(ref beat.LastTicks)) : null;

    /// <summary>Completes once <paramref name="stage"/> reports a turn that found nothing left to read, at or after the call.</summary>
    public static async Task WaitUntilCaughtUpAsync(string stage, CancellationToken cancellationToken)
    {
        long since = Environment.TickCount64;
        while (!(Beats.TryGetValue(stage, out var beat) && Volatile.Read(ref beat.LastCaughtUpTicks) >= since))
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Completes once every stage in <paramref name="stages"/> has beaten at least once.</summary>
    public static async Task WaitUntilStartedAsync(IReadOnlyCollection<string> stages, CancellationToken cancellationToken)
    {
        while (!stages.All(Beats.ContainsKey))
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
    }

    private sealed class Heartbeat
    {
        public long LastTicks;
        public long LastCaughtUpTicks = long.MinValue;
    }
}
