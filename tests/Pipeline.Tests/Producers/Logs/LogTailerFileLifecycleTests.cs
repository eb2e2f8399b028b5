using Pipeline.Testing;

namespace Pipeline.Tests.Producers.Logs;

/// <summary>Files that are rotated, truncated, deleted, linked, or there before the tailer started.</summary>
[Collection(LogTailerCollection.Name)]
public class LogTailerFileLifecycleTests
{
    [Fact]
    public async Task LinesOnBothSidesOfARenameRotationAllArriveOnce()
    {
        await using var h = new TailerHarness("tail-rotate-host");
        var path = h.LogFile("app.log");
        TailerHarness.Append(path, "old-1\nold-2\n");
        await h.StartTailerAsync();
        h.WaitForMessages("old-1", "old-2");

        // The application writes its last lines, logrotate renames, the application reopens and writes on.
        TailerHarness.Append(path, "old-3\nold-4\n");
        File.Move(path, h.LogFile("app.log.1"));
        TailerHarness.Append(path, "new-1\nnew-2\n");
        h.WaitForMessages("old-3", "old-4", "new-1", "new-2");
        h.Settle();

        AssertEachMessageOnce(h.Received, "old-1", "old-2", "old-3", "old-4", "new-1", "new-2");
        Assert.All(h.Received, r => Assert.Equal(path, r.Event.Log.File.Path));
    }

    [Fact]
    public async Task ARotatedFileThatStillMatchesTheGlobIsNotReadAgain()
    {
        await using var h = new TailerHarness("tail-rotate-glob-host", input => input.Paths = [Path.Combine(input.Paths[0], "..", "app.log*")]);
        var path = h.LogFile("app.log");
        TailerHarness.Append(path, "old-1\n");
        await h.StartTailerAsync();
        h.WaitForMessages("old-1");

        TailerHarness.Append(path, "old-2\n");
        File.Move(path, h.LogFile("app.log.1"));
        TailerHarness.Append(path, "new-1\n");
        h.WaitForMessages("old-2", "new-1");
        // Past the 5 s after which a rotated, inactive file is closed; the next scan finds it again as app.log.1.
        h.Settle(TimeSpan.FromSeconds(6.5));
        TailerHarness.Append(h.LogFile("app.log.1"), "late-old-3\n");
        h.WaitForMessages("late-old-3");
        h.Settle();

        AssertEachMessageOnce(h.Received, "old-1", "old-2", "new-1", "late-old-3");
    }

    [Fact]
    public async Task AfterACopytruncateTheNewLinesArriveFromOffsetZeroAndTheOldAreNotSentAgain()
    {
        await using var h = new TailerHarness("tail-copytruncate-host");
        var path = h.LogFile("app.log");
        TailerHarness.Append(path, "old line one\nold line two\nold line three\n");
        await h.StartTailerAsync();
        h.WaitForMessages("old line one", "old line two", "old line three");

        // logrotate's copytruncate: copy away, then truncate in place; the application keeps writing (O_APPEND).
        File.Copy(path, h.LogFile("app.log.1.bak"));
        using (var truncate = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete)) truncate.SetLength(0);
        TailerHarness.Append(path, "new-1\nnew-2\n");
        h.WaitForMessages("new-1", "new-2");
        h.Settle();

        AssertEachMessageOnce(h.Received, "old line one", "old line two", "old line three", "new-1", "new-2");
        Assert.Equal(0, h.Received.Single(r => r.Event.Message == "new-1").Event.Log.Offset);
        Assert.Equal(6, h.Received.Single(r => r.Event.Message == "new-2").Event.Log.Offset);
    }

    [Fact]
    public async Task StartAtEndSkipsWhatIsThereAtStartupButReadsALaterFileFromItsBeginning()
    {
        await using var h = new TailerHarness("tail-start-end-host", input => input.StartAt = "end");
        var existing = h.LogFile("existing.log");
        TailerHarness.Append(existing, "before-start-1\nbefore-start-2\n");
        long size = new FileInfo(existing).Length;
        await h.StartTailerAsync();
        // The tailer has opened the file (at its end) once it shows in the checkpoints.
        await Eventually.True(() => h.CheckpointOffset(existing) == size, TimeSpan.FromSeconds(10), "existing.log discovered");

        TailerHarness.Append(existing, "after-start-1\n");
        TailerHarness.Append(h.LogFile("later.log"), "later-1\nlater-2\n");
        h.WaitForMessages("after-start-1", "later-1", "later-2");
        h.Settle();

        AssertEachMessageOnce(h.Received, "after-start-1", "later-1", "later-2");
        Assert.Equal(size, h.Received.Single(r => r.Event.Message == "after-start-1").Event.Log.Offset);
        Assert.Equal(0, h.Received.Single(r => r.Event.Message == "later-1").Event.Log.Offset);
    }

    [Fact]
    public async Task AFileReachedThroughASymlinkAndItsRealPathIsReadOnce()
    {
        await using var h = new TailerHarness("tail-symlink-host");
        var realDir = Path.Combine(h.LogDir, "real");
        Directory.CreateDirectory(realDir);
        var real = Path.Combine(realDir, "app.log");
        TailerHarness.Append(real, "line-1\nline-2\n");
        File.CreateSymbolicLink(h.LogFile("link.log"), real);
        h.Input.Paths = [Path.Combine(realDir, "*.log"), h.LogFile("*.log")];
        await h.StartTailerAsync();
        h.WaitForMessages("line-1", "line-2");
        TailerHarness.Append(real, "line-3\n");
        h.WaitForMessages("line-3");
        h.Settle();

        AssertEachMessageOnce(h.Received, "line-1", "line-2", "line-3");
    }

    [Fact]
    public async Task LinesAppendedJustBeforeTheFileIsDeletedStillArrive()
    {
        await using var h = new TailerHarness("tail-delete-host");
        var path = h.LogFile("app.log");
        TailerHarness.Append(path, "first\n");
        await h.StartTailerAsync();
        h.WaitForMessages("first");

        TailerHarness.Append(path, "last-1\nlast-2\n");
        File.Delete(path);
        h.WaitForMessages("last-1", "last-2");
        h.Settle();

        AssertEachMessageOnce(h.Received, "first", "last-1", "last-2");
    }

    [Fact]
    public async Task AFinalLineWithoutANewlineInADeletedFileStillArrives()
    {
        await using var h = new TailerHarness("tail-delete-partial-host");
        var path = h.LogFile("app.log");
        TailerHarness.Append(path, "first\n");
        await h.StartTailerAsync();
        h.WaitForMessages("first");

        TailerHarness.Append(path, "last without newline");
        File.Delete(path);
        // Shipped when the deleted file is closed, 5 s after its last activity.
        h.WaitForMessages("last without newline");
        h.Settle();

        AssertEachMessageOnce(h.Received, "first", "last without newline");
    }

    [Fact]
    public async Task LinesOfADeletedFileAreNotGivenUpWhileKafkaIsAway()
    {
        await using var h = new TailerHarness("tail-delete-broker-down-host");
        // Shorter than the default, but longer than the 5 s after which a deleted, inactive file is closed.
        h.Config.Kafka.DeliveryTimeout = "6s";
        var path = h.LogFile("app.log");
        TailerHarness.Append(path, "first\n");
        await h.StartTailerAsync();
        h.WaitForMessages("first");

        h.Broker.SetBrokerDown(1);
        TailerHarness.Append(path, "last-1\nlast-2\n");
        File.Delete(path);
        // The deleted file's lines time out while its reader would be closed: only the open handle still has them.
        await Task.Delay(TimeSpan.FromSeconds(6.5), TestContext.Current.CancellationToken);
        h.Broker.SetBrokerUp(1);
        h.WaitForMessages("last-1", "last-2");
        h.Settle();

        Assert.Equal(["first", "last-1", "last-2"], h.Received.Select(r => r.Event.Message).Distinct().Order(StringComparer.Ordinal));
    }

    internal static void AssertEachMessageOnce(IReadOnlyList<Received> received, params string[] messages)
    {
        var counts = received.GroupBy(r => r.Event.Message).ToDictionary(g => g.Key, g => g.Count());
        var wrong = messages.Where(m => counts.GetValueOrDefault(m) != 1).Concat(counts.Keys.Except(messages)).ToList();
        Assert.True(wrong.Count == 0, $"not exactly once: {string.Join(", ", wrong)}\n{TailerHarness.Describe(received)}");
    }
}
