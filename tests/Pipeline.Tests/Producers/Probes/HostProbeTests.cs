using Pipeline.Producers.Probes;
using Pipeline.Testing;

namespace Pipeline.Tests.Producers.Probes;

/// <summary>memory, load, file, process and kmsg, against files the tests write and this machine's own /proc.</summary>
[Collection(Pipeline.Tests.Producers.Probes.ProbeTimingCollection.Name)]
public sealed class HostProbeTests : IDisposable
{
    private readonly TempDirectory _dir = new("pipeline-host-probes");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task MemoryPublishesAvailablePercentAndChecksPressure()
    {
        File.WriteAllText(_dir.File("meminfo"), "MemTotal:       16000000 kB\nMemFree:  100 kB\nMemAvailable:    1200000 kB\n");
        File.WriteAllText(_dir.File("pressure"), "some avg10=42.50 avg60=10.00 avg300=1.00 total=1\nfull avg10=1.00 avg60=0.00 avg300=0.00 total=0\n");
        var low = await Run(new MemoryProbe(Probes.Config("memory"), _dir.File("meminfo"), _dir.File("pressure")));
        Assert.Equal((ProbeStatus.Problem, ProbeReasons.Threshold, 7.5), (low.Status, low.Reason, low.Value));
        Assert.Contains("avg10 42.5%", low.Message);

        var pressured = await Run(new MemoryProbe(Probes.Config("memory", configure: c => { c.MinAvailablePct = 5; c.MaxPressurePct = 40; }), _dir.File("meminfo"), _dir.File("pressure")));
        Assert.Equal((ProbeStatus.Problem, "pressure"), (pressured.Status, pressured.Reason));

        var noPsi = await Run(new MemoryProbe(Probes.Config("memory", configure: c => c.MinAvailablePct = 5), _dir.File("meminfo"), _dir.File("absent")));
        Assert.Equal(ProbeStatus.Ok, noPsi.Status);

        var real = await Probes.RunAsync("memory");
        Assert.NotEqual(ProbeStatus.Unknown, real.Status);
        Assert.InRange(real.Value!.Value, 0.01, 100);
    }

    [Fact]
    public async Task LoadIsPerCore()
    {
        File.WriteAllText(_dir.File("loadavg"), "6.00 3.00 1.00 2/300 12345\n");
        var high = await Run(new LoadProbe(Probes.Config("load", configure: c => c.MaxLoadPerCore = 1), _dir.File("loadavg"), 4));
        Assert.Equal((ProbeStatus.Problem, 1.5), (high.Status, high.Value));
        var fine = await Run(new LoadProbe(Probes.Config("load", configure: c => c.MaxLoadPerCore = 2), _dir.File("loadavg"), 4));
        Assert.Equal(ProbeStatus.Ok, fine.Status);
    }

    [Fact]
    public async Task FileChecksExistenceAndFreshness()
    {
        var path = _dir.File("heartbeat");
        Assert.Equal(ProbeReasons.Missing, (await Probes.RunAsync("file", path)).Reason);
        File.WriteAllText(path, "x");
        Assert.Equal(ProbeStatus.Ok, (await Probes.RunAsync("file", path, c => c.MaxAge = "1m")).Status);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddHours(-3));
        var stale = await Probes.RunAsync("file", path, c => c.MaxAge = "1h");
        Assert.Equal((ProbeStatus.Problem, ProbeReasons.Stale), (stale.Status, stale.Reason));
        Assert.Contains("3h ago", stale.Message);
    }

    [Fact]
    public async Task ProcessCountsMatchesOfAFilterOverProc()
    {
        int self = Environment.ProcessId;
        var me = await Probes.RunAsync("process", $"pid == {self} and ppid > 0 and name != \"\"");
        Assert.Equal((ProbeStatus.Ok, 1.0), (me.Status, me.Value));
        var byCmdline = await Probes.RunAsync("process", $"process.pid == {self} and process.command_line contains \"Pipeline.Tests\"");
        Assert.Equal(1.0, byCmdline.Value);
        var none = await Probes.RunAsync("process", "name == \"no-such-process-name\"");
        Assert.Equal((ProbeStatus.Problem, ProbeReasons.TooFew, 0.0), (none.Status, none.Reason, none.Value));
        var absentOk = await Probes.RunAsync("process", "name == \"no-such-process-name\"", c => c.MinCount = 0);
        Assert.Equal(ProbeStatus.Ok, absentOk.Status);
    }

    [Fact]
    public async Task KmsgMatchesOnlyMessagesWrittenSinceTheLastRun()
    {
        var log = _dir.File("kmsg");
        File.WriteAllText(log, "3,100,1000,-;Out of memory: Killed process 1 (old) from before the agent started\n");
        using var probe = new KmsgProbe(Probes.Config("kmsg", log));
        Assert.Equal(ProbeStatus.Ok, (await Run(probe)).Status);

        File.AppendAllText(log,
            "6,101,2000,-;eth0: renamed from veth\n SUBSYSTEM=net\n" +
            "3,102,3000,-;INFO: task jbd2/sda1-8:312 blocked for more than 120 seconds.\n" +
            "3,103,4000,-;Out of memory: Killed process 4242 (java) total-vm:100kB\n");
        var hit = await Run(probe);
        Assert.Equal((ProbeStatus.Problem, "TaskHung", 2.0), (hit.Status, hit.Reason, hit.Value));
        Assert.Contains("jbd2/sda1-8:312 blocked", hit.Message);
        Assert.Contains("and 1 more", hit.Message);

        Assert.Equal(ProbeStatus.Ok, (await Run(probe)).Status);
    }

    [Fact]
    public async Task AnUnreadableKernelLogIsUnknownAndSaysWhy()
    {
        var result = await Probes.RunAsync("kmsg", "/no/such/kmsg");
        Assert.Equal((ProbeStatus.Unknown, ProbeReasons.Unreadable), (result.Status, result.Reason));
        Assert.Contains("cannot read /no/such/kmsg", result.Message);
        Assert.Contains("CAP_SYSLOG", result.Message);
    }

    [Fact]
    public async Task TheRealDevKmsgIsReadableByRoot()
    {
        if (!File.Exists("/dev/kmsg") || Environment.UserName != "root") { Assert.Skip("no /dev/kmsg, or not root"); return; }
        var result = await Probes.RunAsync("kmsg");
        Assert.NotEqual(ProbeStatus.Unknown, result.Status);
    }

    private static async Task<ProbeResult> Run(IProbe probe) => await probe.RunAsync(TestContext.Current.CancellationToken);
}
