using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Plumbing.Telemetry;

namespace Pipeline.Tests.Plumbing.Telemetry;

public class SystemdWatchdogTests
{
    /// <summary>Records what would go to systemd's notify socket.</summary>
    private sealed class RecordingNotifier : ISystemdNotifier
    {
        private int _watchdogs;
        public bool IsEnabled => true;
        public int Watchdogs => Volatile.Read(ref _watchdogs);
        public void Notify(ServiceState state)
        {
            if (state.ToString() == "WATCHDOG=1") Interlocked.Increment(ref _watchdogs);
        }
    }

    private static string UniqueStage() => "test." + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task TheWatchdogIsFedWhileTheStageBeatsAndGoesQuietWhenItStalls()
    {
        var stage = UniqueStage();
        var notifier = new RecordingNotifier();
        using var watchdog = new SystemdWatchdog(notifier, TimeSpan.FromMilliseconds(400), [stage], NullLogger<SystemdWatchdog>.Instance);
        using var beating = new CancellationTokenSource();
        var beats = Task.Run(async () =>
        {
            while (!beating.IsCancellationRequested)
            {
                StageProgress.Beat(stage);
                await Task.Delay(20);
            }
        });
        await watchdog.StartAsync(CancellationToken.None);
        await Task.Delay(1000);
        int whileBeating = notifier.Watchdogs;
        Assert.True(whileBeating >= 3, $"only {whileBeating} WATCHDOG=1 in 1 s while the stage beat (every 100 ms expected)");

        await beating.CancelAsync();
        await beats;
        await Task.Delay(300); // past the stall limit (200 ms)
        int atStall = notifier.Watchdogs;
        await Task.Delay(800);
        Assert.Equal(atStall, notifier.Watchdogs);

        StageProgress.Beat(stage);
        await Task.Delay(300);
        Assert.True(notifier.Watchdogs > atStall, "feeding resumes once the stage turns again");
        await watchdog.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task AStageThatHasNotStartedYetDoesNotStopTheFeeding()
    {
        var notifier = new RecordingNotifier();
        using var watchdog = new SystemdWatchdog(notifier, TimeSpan.FromMilliseconds(200), [UniqueStage()], NullLogger<SystemdWatchdog>.Instance);
        await watchdog.StartAsync(CancellationToken.None);
        await Task.Delay(500);
        await watchdog.StopAsync(CancellationToken.None);
        Assert.True(notifier.Watchdogs >= 2);
    }

    [Theory]
    [InlineData("60000000", null, 60.0)]
    [InlineData("60000000", "42", 60.0)]
    [InlineData("60000000", "43", null)]   // set for another process (our parent): not ours to feed
    [InlineData(null, null, null)]         // no WatchdogSec=
    [InlineData("0", null, null)]
    [InlineData("soon", null, null)]
    public void TheIntervalComesFromWatchdogUsecOnlyForTheProcessItNames(string? usec, string? pid, double? seconds)
        => Assert.Equal(seconds is null ? null : TimeSpan.FromSeconds(seconds.Value), SystemdWatchdog.Interval(usec, pid, processId: 42));

    [Fact]
    public async Task TheStartGateOpensOnlyOnceEveryStageHasTurned()
    {
        string a = UniqueStage(), b = UniqueStage();
        var gate = new StagesStartedGate([a, b]);
        var start = gate.StartAsync(CancellationToken.None);
        StageProgress.Beat(a);
        await Task.Delay(200);
        Assert.False(start.IsCompleted);
        StageProgress.Beat(b);
        await start.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task CaughtUpMeansATurnThatFoundNothingLeftAfterTheWaitBegan()
    {
        var stage = UniqueStage();
        StageProgress.Beat(stage, caughtUp: true); // before the wait: does not count
        await Task.Delay(20);
        var wait = StageProgress.WaitUntilCaughtUpAsync(stage, CancellationToken.None);
        StageProgress.Beat(stage, caughtUp: false);
        await Task.Delay(200);
        Assert.False(wait.IsCompleted);
        StageProgress.Beat(stage, caughtUp: true);
        await wait.WaitAsync(TimeSpan.FromSeconds(5));
    }
}
