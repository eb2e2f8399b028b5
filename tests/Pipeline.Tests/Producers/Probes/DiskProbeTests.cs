using Pipeline.Producers.Probes;
using Pipeline.Testing;

namespace Pipeline.Tests.Producers.Probes;

[Collection(Pipeline.Tests.Producers.Probes.ProbeTimingCollection.Name)]
public sealed class DiskProbeTests
{
    [Fact]
    public async Task ATmpfsFilledPastTheThresholdIsAProblem()
    {
        using var tmpfs = TmpfsMount.TryMount("size=4m,nr_inodes=1000");
        if (tmpfs is null) { Assert.Skip("cannot mount a tmpfs here (needs root); the threshold test below covers the logic"); return; }

        var empty = await Probes.RunAsync("disk", tmpfs.Path, c => c.MaxUsedPct = 50);
        Assert.Equal(ProbeStatus.Ok, empty.Status);
        Assert.True(empty.Value < 5, $"a fresh tmpfs is nearly empty, got {empty.Value}%");

        await File.WriteAllBytesAsync(Path.Combine(tmpfs.Path, "fill"), new byte[3 * 1024 * 1024], TestContext.Current.CancellationToken);
        var full = await Probes.RunAsync("disk", tmpfs.Path, c => c.MaxUsedPct = 50);
        Assert.Equal((ProbeStatus.Problem, ProbeReasons.Threshold), (full.Status, full.Reason));
        Assert.InRange(full.Value!.Value, 70, 80);
    }

    [Fact]
    public async Task InodesPastTheirThresholdAreAProblem()
    {
        using var tmpfs = TmpfsMount.TryMount("size=4m,nr_inodes=100");
        if (tmpfs is null) { Assert.Skip("cannot mount a tmpfs here (needs root)"); return; }
        for (int i = 0; i < 80; i++) await File.WriteAllTextAsync(Path.Combine(tmpfs.Path, $"f{i}"), "", TestContext.Current.CancellationToken);
        var result = await Probes.RunAsync("disk", tmpfs.Path, c => c.MaxInodePct = 50);
        Assert.Equal((ProbeStatus.Problem, ProbeReasons.Threshold), (result.Status, result.Reason));
        Assert.Contains("inodes 8", result.Message);
    }

    [Fact]
    public async Task TheThresholdIsComparedWithTheUsageOfTheMountHoldingTheTarget()
    {
        // Works without root: the temp directory's own file system, with the threshold set just below and
        // just above what it uses now.
        using var dir = new TempDirectory("pipeline-disk");
        var now = FileSystemStats.Of(dir.Path).UsedPct;
        if (now < 0.5) { Assert.Skip($"the temp file system is {now:0.##}% used; too empty to put a threshold below it"); return; }
        var below = await Probes.RunAsync("disk", dir.Path, c => c.MaxUsedPct = Math.Max(0.01, now - 0.5));
        Assert.Equal(ProbeStatus.Problem, below.Status);
        var above = await Probes.RunAsync("disk", dir.Path, c => c.MaxUsedPct = Math.Min(100, now + 0.5));
        Assert.Equal(ProbeStatus.Ok, above.Status);
    }

    [Fact]
    public async Task AMissingMountIsUnknownNotOk()
    {
        var result = await Probes.RunAsync("disk", "/no/such/mount");
        Assert.Equal((ProbeStatus.Unknown, ProbeReasons.Unreadable), (result.Status, result.Reason));
    }

    [Fact]
    public async Task AReadOnlyMountIsAProblemForReadonlyFs()
    {
        using var ro = TmpfsMount.TryMount("size=1m,ro");
        if (ro is null) { Assert.Skip("cannot mount a tmpfs here (needs root)"); return; }
        var result = await Probes.RunAsync("readonly_fs", ro.Path);
        Assert.Equal((ProbeStatus.Problem, ProbeReasons.ReadOnly), (result.Status, result.Reason));

        using var rw = new TempDirectory("pipeline-rw");
        Assert.Equal(ProbeStatus.Ok, (await Probes.RunAsync("readonly_fs", rw.Path)).Status);
    }
}
