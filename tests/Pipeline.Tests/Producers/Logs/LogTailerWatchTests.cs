using System.Diagnostics;
using Pipeline.Testing;

namespace Pipeline.Tests.Producers.Logs;

/// <summary>File system notifications make the tailer quick; polling makes it sure.</summary>
[Collection(LogTailerCollection.Name)]
public class LogTailerWatchTests
{
    [Fact]
    public async Task WithNotificationsNewLinesAndNewFilesArriveLongBeforeTheNextPoll()
    {
        // One poll at start, the next in a minute: anything sooner came from a notification.
        await using var h = new TailerHarness("tail-notify-host", input => input.ScanInterval = "60s");
        var path = h.LogFile("app.log");
        TailerHarness.Append(path, "at-start\n");
        await h.StartTailerAsync();
        h.WaitForMessages("at-start");
        Assert.True(h.Tailer!.Watched >= 1);

        var clock = Stopwatch.StartNew();
        TailerHarness.Append(path, "appended\n");
        h.WaitFor(r => r.Any(e => e.Event.Message == "appended"), "appended line", TimeSpan.FromSeconds(10));
        var appended = clock.Elapsed;
        clock.Restart();
        TailerHarness.Append(h.LogFile("new.log"), "in a new file\n");
        h.WaitFor(r => r.Any(e => e.Event.Message == "in a new file"), "new file", TimeSpan.FromSeconds(10));
        var created = clock.Elapsed;
        TestContext.Current.TestOutputHelper?.WriteLine($"appended line after {appended.TotalMilliseconds:F0} ms, new file after {created.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task AFileRotatedAwayBeforeAnyScanSawItIsStillReadToItsEnd()
    {
        // The next poll is a minute away, and the file is renamed to a name the glob does not match within
        // microseconds of its creation: only the rename notification leads to it.
        await using var h = new TailerHarness("tail-renamed-early-host", input => input.ScanInterval = "60s");
        var path = h.LogFile("app.log");
        TailerHarness.Append(path, "first file\n");
        await h.StartTailerAsync();
        h.WaitForMessages("first file");

        File.Move(path, h.LogFile("app.log.1"));
        using (var brief = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
        {
            brief.Write("lived for an instant 1\nlived for an instant 2\n"u8);
        }
        File.Move(path, h.LogFile("app.log.2"));
        TailerHarness.Append(path, "third file\n");

        h.WaitForMessages("lived for an instant 1", "lived for an instant 2", "third file");
        h.Settle();
        LogTailerFileLifecycleTests.AssertEachMessageOnce(h.Received, "first file", "lived for an instant 1", "lived for an instant 2", "third file");
    }

    [Fact]
    public async Task WithoutNotificationsPollingAloneFindsNewLinesNewFilesAndRotations()
    {
        await using var h = new TailerHarness("tail-poll-host", input => input.ScanInterval = "200ms");
        var path = h.LogFile("app.log");
        await h.StartTailerAsync(notifications: false);
        Assert.Equal(0, h.Tailer!.Watched);
        TailerHarness.Append(path, "one\n");
        h.WaitForMessages("one");
        TailerHarness.Append(path, "two\n");
        File.Move(path, h.LogFile("app.log.1"));
        TailerHarness.Append(path, "three\n");
        TailerHarness.Append(h.LogFile("other.log"), "four\n");
        h.WaitForMessages("two", "three", "four");
        h.Settle();
        LogTailerFileLifecycleTests.AssertEachMessageOnce(h.Received, "one", "two", "three", "four");
    }

    [Fact]
    public async Task ADirectoryThatAppearsLaterIsWatchedAndReadFromTheStart()
    {
        await using var h = new TailerHarness("tail-later-dir-host", input =>
        {
            input.StartAt = "end";
            input.ScanInterval = "300ms";
        });
        var later = Path.Combine(h.LogDir, "later");
        h.Input.Paths = [Path.Combine(later, "**", "*.log")];
        await h.StartTailerAsync();
        Assert.Equal(0, h.Tailer!.Watched);
        await Task.Delay(500, TestContext.Current.CancellationToken);

        Directory.CreateDirectory(Path.Combine(later, "svc"));
        // start_at = "end" is for files there at startup: these appear later and are read whole.
        TailerHarness.Append(Path.Combine(later, "svc", "a.log"), "a-1\na-2\n");
        h.WaitForMessages("a-1", "a-2");
        await Eventually.True(() => h.Tailer.Watched == 1, TimeSpan.FromSeconds(5), "the new directory watched");
        Directory.CreateDirectory(Path.Combine(later, "svc2"));
        TailerHarness.Append(Path.Combine(later, "svc2", "b.log"), "b-1\n");
        h.WaitForMessages("b-1");
    }
}
