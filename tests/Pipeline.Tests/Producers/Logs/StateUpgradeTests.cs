using System.Text;
using Microsoft.Win32.SafeHandles;
using Pipeline.Producers;
using Pipeline.Producers.Logs;
using Pipeline.Producers.Process;
using Pipeline.Testing;

namespace Pipeline.Tests.Producers.Logs;

/// <summary>
/// Upgrades: every file the agent persists carries a format version. A newer agent migrates an older
/// format (the registry of 0.1.0 was a bare array: testdata/upgrade/registry-format1.json) and an older
/// agent refuses a newer one rather than misreading it.
/// </summary>
[Collection(LogTailerCollection.Name)]
public class StateUpgradeTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "testdata", "upgrade", name);

    /// <summary>The checked-in format 1 registry, filled in for <paramref name="path"/> read up to <paramref name="offset"/>.</summary>
    private static string Format1Registry(string path, long offset)
    {
        var identity = FileIdentity.Of(path)!.Value.Identity.ToString();
        string fingerprint;
        int length = (int)Math.Min(new FileInfo(path).Length, LogFileReader.FingerprintLength);
        using (SafeFileHandle handle = File.OpenHandle(path)) fingerprint = LogFileReader.ComputeFingerprint(handle, length);
        return File.ReadAllText(Fixture("registry-format1.json"))
            .Replace("$IDENTITY", identity).Replace("$PATH", path).Replace("$OFFSET", offset.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Replace("$FINGERPRINT_LENGTH", length.ToString(System.Globalization.CultureInfo.InvariantCulture)).Replace("$FINGERPRINT", fingerprint);
    }

    [Fact]
    public async Task AfterAnUpgradeFromAFormat1RegistryNoLineIsLostOrShippedAgain()
    {
        await using var h = new TailerHarness("upgrade-host");
        var path = h.LogFile("app.log");
        var text = new StringBuilder();
        for (int i = 0; i < 2000; i++) text.Append($"line {i:D4} shipped by the previous release\n");
        TailerHarness.Append(path, text.ToString());
        long shippedBefore = text.Length; // the previous release acknowledged every one of these

        Directory.CreateDirectory(h.Config.DataDir);
        File.WriteAllText(h.CheckpointFile, Format1Registry(path, shippedBefore));
        var after = new StringBuilder();
        for (int i = 0; i < 500; i++) after.Append($"line {i:D4} written during the upgrade\n");
        TailerHarness.Append(path, after.ToString());

        await h.StartTailerAsync();
        h.WaitForMessages("line 0499 written during the upgrade");
        h.Settle();
        await h.StopTailerAsync();

        Assert.Equal(500, h.Received.Count);
        Assert.Equal(500, h.Received.Select(r => r.Event.Message).Distinct().Count());
        Assert.DoesNotContain(h.Received, r => r.Event.Message!.Contains("previous release", StringComparison.Ordinal));
        var (version, entries) = CheckpointStore.Read(h.CheckpointFile);
        Assert.Equal(CheckpointStore.FormatVersion, version);
        Assert.Equal(shippedBefore + after.Length, Assert.Single(entries).Offset);
        Assert.Contains(h.LogMessages, m => m.Contains("migrated the log registry", StringComparison.Ordinal));
    }

    [Fact]
    public void AFormat1RegistryIsMigratedAtOnceAndAtomically()
    {
        using var dir = new TempDirectory("upgrade-registry");
        var log = dir.File("a.log");
        File.WriteAllText(log, "one\ntwo\n");
        var registry = CheckpointStore.RegistryPath(dir.Path);
        File.WriteAllText(registry, Format1Registry(log, 4));
        Assert.Equal(1, CheckpointStore.Read(registry).Version);

        var store = CheckpointStore.OpenRegistry(dir.Path);

        Assert.Equal(1, store.LoadedVersion);
        var (version, entries) = CheckpointStore.Read(registry);
        Assert.Equal(2, version);
        Assert.Equal(4, Assert.Single(entries).Offset);
        Assert.Contains("\"format\": \"pipeline-registry\"", File.ReadAllText(registry), StringComparison.Ordinal);
        Assert.False(File.Exists(registry + ".tmp"));
    }

    [Fact]
    public void ARegistryFromANewerAgentIsRefusedNotMisreadOrMovedAside()
    {
        using var dir = new TempDirectory("upgrade-newer");
        var registry = CheckpointStore.RegistryPath(dir.Path);
        const string Newer = """{"format": "pipeline-registry", "version": 3, "entries": [], "shards": 4}""";
        File.WriteAllText(registry, Newer);

        var e = Assert.Throws<NewerStateFormatException>(() => CheckpointStore.OpenRegistry(dir.Path));

        Assert.Equal(3, e.Found);
        Assert.Contains(registry, e.Message, StringComparison.Ordinal);
        Assert.Contains("format version 3", e.Message, StringComparison.Ordinal);
        Assert.Contains("reads versions up to 2", e.Message, StringComparison.Ordinal);
        Assert.Equal(Newer, File.ReadAllText(registry));
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void ASpoolWithoutAFormatFileIsFormat1AndANewerSpoolIsRefused()
    {
        using var dir = new TempDirectory("upgrade-spool");
        var spoolDir = dir.File("spool");
        using (var spool = new DiskSpool(spoolDir, 1 << 20))
        {
            spool.Append(SpoolKind.Oom, "k"u8, "an OOM kill waiting for Kafka"u8);
        }
        // A spool written before the format file existed: the same layout, no "format".
        File.Delete(Path.Combine(spoolDir, "format"));
        using (var spool = new DiskSpool(spoolDir, 1 << 20))
        {
            Assert.Equal(1, spool.Count);
        }
        Assert.Equal("1", File.ReadAllText(Path.Combine(spoolDir, "format")));

        File.WriteAllText(Path.Combine(spoolDir, "format"), "2");
        var e = Assert.Throws<NewerStateFormatException>(() => new DiskSpool(spoolDir, 1 << 20));
        Assert.Contains("process spool of format version 2", e.Message, StringComparison.Ordinal);
    }
}
