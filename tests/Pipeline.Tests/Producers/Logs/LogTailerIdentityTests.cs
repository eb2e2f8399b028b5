using Pipeline.Producers.Logs;
using Pipeline.Testing;

namespace Pipeline.Tests.Producers.Logs;

/// <summary>Telling files apart: same first KiB, a reused inode, a registry entry that no longer fits.</summary>
[Collection(LogTailerCollection.Name)]
public class LogTailerIdentityTests
{
    // Many log files start the same way (a banner, a CSV header): longer than the 1 KiB fingerprint here.
    private static readonly string Header = string.Concat(Enumerable.Range(0, 30).Select(i => $"# application banner line {i:D2} -------\n"));

    [Fact]
    public async Task TwoFilesWithTheSameFirstKiBAreTwoFilesBeforeAndAfterARestart()
    {
        Assert.True(Header.Length > LogFileReader.FingerprintLength);
        await using var h = new TailerHarness("tail-same-header-host");
        var a = h.LogFile("a.log");
        var b = h.LogFile("b.log");
        TailerHarness.Append(a, Header + "a-1\n");
        TailerHarness.Append(b, Header + "b-1\n");
        await h.StartTailerAsync();
        h.WaitForMessages("a-1", "b-1");
        long size = new FileInfo(a).Length;
        await Eventually.True(() => h.CheckpointOffset(a) == size && h.CheckpointOffset(b) == size, TimeSpan.FromSeconds(10), "both checkpointed");
        await h.StopTailerAsync();

        var registry = new CheckpointStore(h.CheckpointFile);
        var entries = registry.Entries.Where(e => e.Path == a || e.Path == b).ToList();
        Assert.Equal(2, entries.Count);
        Assert.Equal(entries[0].Fingerprint, entries[1].Fingerprint);
        Assert.NotEqual(entries[0].Identity, entries[1].Identity);

        TailerHarness.Append(a, "a-2\n");
        TailerHarness.Append(b, "b-2\n");
        await h.StartTailerAsync();
        h.WaitForMessages("a-2", "b-2");
        h.Settle();
        Assert.Equal(2 * 30 + 4, h.Received.Count);
        Assert.Equal(2, h.Received.Where(r => r.Event.Message.StartsWith("# application banner line 00", StringComparison.Ordinal)).Select(r => r.Event.Log.File.Path).Distinct().Count());
    }

    [Fact]
    public async Task AFileDeletedAndCreatedAgainOnTheSameInodeIsReadAsNew()
    {
        await using var h = new TailerHarness("tail-inode-reuse-host");
        var path = h.LogFile("app.log");
        TailerHarness.Append(path, Header + "old-1\nold-2\n");
        await h.StartTailerAsync();
        h.WaitForMessages("old-2");
        long oldSize = new FileInfo(path).Length;
        await Eventually.True(() => h.CheckpointOffset(path) == oldSize, TimeSpan.FromSeconds(10), "old file checkpointed");
        await h.StopTailerAsync();
        var old = FileIdentity.Of(path)!.Value.Identity;

        // Deleted and created again, same header, shorter than the old checkpoint's offset would need.
        File.Delete(path);
        TailerHarness.Append(path, Header + "new-1\n");
        var now = FileIdentity.Of(path)!.Value.Identity;
        TestContext.Current.TestOutputHelper?.WriteLine($"old {old}, new {now}: inode {(old.Inode == now.Inode ? "reused" : "not reused")}");
        Assert.NotEqual(old, now);

        await h.StartTailerAsync();
        h.WaitForMessages("new-1");
        h.Settle();
        Assert.Equal(2, h.Received.Count(r => r.Event.Message == "# application banner line 00 -------"));
        Assert.Single(h.Received, r => r.Event.Message == "new-1");
        Assert.Single(h.Received, r => r.Event.Message == "old-1");
    }

    [Fact]
    public async Task ARegistryEntryForTheSameIdentityButOtherContentIsNotTrusted()
    {
        // Where birth time is unknown (some file systems report none), a reused inode has the same identity:
        // the fingerprint of the first bytes is what tells the new file from the old.
        await using var h = new TailerHarness("tail-fingerprint-host");
        var path = h.LogFile("app.log");
        TailerHarness.Append(path, Header + "new content\n");
        var registry = CheckpointStore.OpenRegistry(h.Config.DataDir);
        registry.Set(new Checkpoint
        {
            Identity = FileIdentity.Of(path)!.Value.Identity.ToString(),
            Path = path,
            Offset = Header.Length,
            Fingerprint = "0123456789abcdef",
            FingerprintLength = LogFileReader.FingerprintLength,
            Seen = DateTimeOffset.UtcNow,
        });
        registry.Save();
        await h.StartTailerAsync();
        h.WaitForMessages("new content");
        Assert.Contains(h.Received, r => r.Event.Log.Offset == 0);
    }
}
