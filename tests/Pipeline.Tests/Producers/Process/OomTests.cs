using Pipeline.Producers.Process;
using Pipeline.Testing;

namespace Pipeline.Tests.Producers.Process;

/// <summary>
/// OOM kills. Where this machine lets a test make a memory-limited cgroup v2, a real process is
/// OOM-killed in it; elsewhere that test is skipped with the reason, and recorded kernel lines and
/// memory.events deltas are replayed through the same parser and deduplicator the agent uses.
/// </summary>
public class OomTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    // Recorded from Linux 6.1 (a memory.max=32M cgroup running `tail /dev/zero`), names and pids changed.
    private const string SummaryLine = "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/pipeline-oom,task_memcg=/pipeline-oom,task=tail,pid=4242,uid=0";
    private const string KilledLine = "Memory cgroup out of memory: Killed process 4242 (tail) total-vm:39640kB, anon-rss:31232kB, file-rss:1408kB, shmem-rss:0kB, UID:0 pgtables:108kB oom_score_adj:0";
    private const string GlobalKilledLine = "Out of memory: Killed process 777 (we ird) name) total-vm:2097152kB, anon-rss:1048576kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:2100kB oom_score_adj:0";

    private static List<OomKill> Release(OomDeduplicator d, DateTimeOffset now)
    {
        var kills = new List<OomKill>();
        d.Release(now, kills);
        return kills;
    }

    [Fact]
    public void TheKernelsOomLinesParseEvenWithOddNames()
    {
        Assert.True(OomKillParser.TryParse(SummaryLine, out var summary));
        Assert.Equal((4242, "tail", "/pipeline-oom", (int?)0), (summary.Pid, summary.Name, summary.Cgroup, summary.Uid));
        Assert.True(OomKillParser.TryParse(KilledLine, out var killed));
        Assert.Equal((4242, "tail", (long?)(31232 + 1408) * 1024), (killed.Pid, killed.Name, killed.RssBytes));
        Assert.True(OomKillParser.TryParse(GlobalKilledLine, out var global));
        Assert.Equal((777, "we ird) name", (int?)1000), (global.Pid, global.Name, global.Uid));
        Assert.True(OomKillParser.TryParse("oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/user.slice,task=a,pid=b,pid=12,uid=1000", out var comma));
        Assert.Equal(("a,pid=b", 12), (comma.Name, comma.Pid));
        Assert.False(OomKillParser.TryParse("oom_reaper: reaped process 4242 (tail), now anon-rss:0kB", out _));
        Assert.False(OomKillParser.TryParse("usb 1-1: new high-speed USB device", out _));
        Assert.True(KernelLogReader.TryParse(System.Text.Encoding.UTF8.GetBytes("3,1234,5678901,-;" + KilledLine + "\n SUBSYSTEM=x\n"), out var record));
        Assert.Equal((1234L, 5678901L, KilledLine), (record.Sequence, record.MicrosecondsSinceBoot, record.Message));
    }

    [Fact]
    public void OneKillSeenByTheKernelLogAndBothCountersIsOneEvent()
    {
        var d = new OomDeduplicator();
        d.OnCgroupCounter("/pipeline-oom", 0, T0);
        d.OnVmstatCounter(5, T0);
        Assert.Empty(Release(d, T0));

        d.OnKernelMessage(SummaryLine, T0.AddSeconds(1));
        d.OnKernelMessage(KilledLine, T0.AddSeconds(1));
        d.OnCgroupCounter("/pipeline-oom", 1, T0.AddSeconds(1));
        d.OnVmstatCounter(6, T0.AddSeconds(1));
        var kill = Assert.Single(Release(d, T0.AddSeconds(1)));
        Assert.Equal((4242, "tail", "/pipeline-oom"), (kill.Pid, kill.Name, kill.Cgroup));
        Assert.Equal((31232L + 1408) * 1024, kill.RssBytes);
        Assert.Equal([OomDeduplicator.Kmsg, OomDeduplicator.MemoryEvents, OomDeduplicator.Vmstat], kill.Sources);
        Assert.Empty(Release(d, T0.AddSeconds(10))); // nothing later either
    }

    [Fact]
    public void ACounterThatMovesBeforeTheKernelLineArrivesWaitsForIt()
    {
        var d = new OomDeduplicator();
        d.OnCgroupCounter("/pipeline-oom", 3, T0);
        d.OnVmstatCounter(10, T0);
        d.OnCgroupCounter("/pipeline-oom", 4, T0.AddSeconds(1));
        d.OnVmstatCounter(11, T0.AddSeconds(1));
        Assert.Empty(Release(d, T0.AddSeconds(1))); // within the grace period
        d.OnKernelMessage(KilledLine, T0.AddSeconds(2));
        var kill = Assert.Single(Release(d, T0.AddSeconds(2)));
        Assert.Equal((4242, "/pipeline-oom", OomDeduplicator.Kmsg), (kill.Pid, kill.Cgroup, kill.Source));
        Assert.Empty(Release(d, T0.AddSeconds(30)));
    }

    [Fact]
    public void WithoutTheKernelLogACounterStepIsStillOneEventAfterTheGracePeriod()
    {
        var d = new OomDeduplicator();
        d.OnCgroupCounter("/kubepods/pod1/abc", 0, T0);
        d.OnVmstatCounter(0, T0);
        d.OnCgroupCounter("/kubepods/pod1/abc", 1, T0.AddSeconds(1));
        d.OnVmstatCounter(1, T0.AddSeconds(1));
        Assert.Empty(Release(d, T0.AddSeconds(2)));
        var kill = Assert.Single(Release(d, T0.AddSeconds(1) + OomDeduplicator.Grace));
        Assert.Null(kill.Pid);
        Assert.Equal("/kubepods/pod1/abc", kill.Cgroup);
        Assert.Equal([OomDeduplicator.MemoryEvents, OomDeduplicator.Vmstat], kill.Sources);
    }

    [Fact]
    public void VmstatAloneStillReportsAKillAndTwoKillsAreTwoEvents()
    {
        var d = new OomDeduplicator();
        d.OnVmstatCounter(7, T0);
        d.OnVmstatCounter(8, T0.AddSeconds(1));
        var kill = Assert.Single(Release(d, T0.AddSeconds(5)));
        Assert.Equal(OomDeduplicator.Vmstat, kill.Source);
        Assert.Null(kill.Pid);

        d.OnKernelMessage(KilledLine, T0.AddSeconds(6));
        d.OnKernelMessage(GlobalKilledLine, T0.AddSeconds(6));
        d.OnVmstatCounter(10, T0.AddSeconds(6));
        var two = Release(d, T0.AddSeconds(6));
        Assert.Equal([4242, 777], two.Select(k => k.Pid!.Value));
        Assert.Empty(Release(d, T0.AddSeconds(20)));
    }

    [Fact]
    public void TheFirstReadingOfACounterIsABaselineNotAKill()
    {
        var d = new OomDeduplicator();
        d.OnCgroupCounter("/a", 12, T0);
        d.OnVmstatCounter(40, T0);
        Assert.Empty(Release(d, T0.AddMinutes(1)));
    }

    [Fact]
    public void AnUnreadableKernelLogFallsBackQuietlyAndSaysOnceWhichSourcesAreUsed()
    {
        using var proc = new TempDirectory("fake-proc");
        using var cgroups = new TempDirectory("fake-cgroup");
        File.WriteAllText(proc.File("vmstat"), "nr_free_pages 1\noom_kill 3\n");
        File.WriteAllText(proc.File("uptime"), "100.0 1.0\n");
        Directory.CreateDirectory(cgroups.File("app"));
        File.WriteAllText(cgroups.File("app/memory.events"), "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n");
        var logger = new CapturingLogger<OomTests>();
        using var watcher = new OomWatcher(logger, proc.Path, kmsgPath: proc.File("no-kmsg-here"), cgroup2Root: cgroups.Path);
        Assert.False(watcher.ReadsKernelLog);
        var line = Assert.Single(logger.Lines).Message;
        Assert.Contains("is not readable", line);
        Assert.Contains("memory.events", line);
        Assert.Contains("vmstat", line);

        var kills = new List<OomKill>();
        watcher.Poll(["/app"], kills);
        File.WriteAllText(cgroups.File("app/memory.events"), "low 0\nhigh 0\nmax 9\noom 2\noom_kill 2\n");
        File.WriteAllText(proc.File("vmstat"), "nr_free_pages 1\noom_kill 4\n");
        watcher.Poll(["/app"], kills);
        Assert.Empty(kills); // waiting for a kernel line that cannot come
        Thread.Sleep(OomDeduplicator.Grace + TimeSpan.FromMilliseconds(200));
        watcher.Poll(["/app"], kills);
        var kill = Assert.Single(kills);
        Assert.Equal("/app", kill.Cgroup);
        Assert.Equal([OomDeduplicator.MemoryEvents, OomDeduplicator.Vmstat], kill.Sources);
        Assert.Single(logger.Lines); // said once
    }

    [Fact]
    public void TheRealKernelLogIsReadWithoutBlocking()
    {
        var reader = KernelLogReader.Open("/dev/kmsg", out var error, "oom-kill:", "Killed process");
        if (reader is null) Assert.Skip($"/dev/kmsg is not readable here ({error}); the recorded lines above cover the parser");
        using (reader)
        {
            var records = new List<KernelRecord>();
            reader.ReadNew(records); // positioned at the end: returns at once
            Assert.Empty(records);
        }
    }

    [Fact]
    public async Task ARealOomKillInAMemoryLimitedCgroupV2IsOneEventNamingTheVictim()
    {
        if (RealOomUnavailable() is { } reason)
        {
            TestContext.Current.TestOutputHelper?.WriteLine($"OOM path: replayed recorded kmsg lines and memory.events deltas (see the tests above); no real OOM kill because {reason}");
            Assert.Skip($"no real OOM kill here: {reason}; recorded kmsg lines and memory.events deltas were replayed instead");
        }
        TestContext.Current.TestOutputHelper?.WriteLine("OOM path: a real OOM kill in a cgroup v2 limited to 32 MiB");
        var mount = OomWatcher.FindCgroup2Mount()!;
        var name = $"pipeline-oom-test-{Guid.NewGuid():N}";
        var cgroup = Path.Combine(mount, name);
        Directory.CreateDirectory(cgroup);
        try
        {
            File.WriteAllText(Path.Combine(cgroup, "memory.max"), "33554432");
            if (File.Exists(Path.Combine(cgroup, "memory.swap.max"))) File.WriteAllText(Path.Combine(cgroup, "memory.swap.max"), "0");
            var logger = new CapturingLogger<OomTests>();
            using var watcher = new OomWatcher(logger);
            var kills = new List<OomKill>();
            watcher.Poll(["/" + name], kills); // baselines
            // tail looks for a newline in /dev/zero forever, holding everything it read: it grows until killed.
            using var hog = Spawned.Shell($"echo $$ > {cgroup}/cgroup.procs && exec tail /dev/zero");
            await Eventually.True(() => { watcher.Poll(["/" + name], kills); return kills.Count > 0; }, TimeSpan.FromSeconds(60), "the OOM kill");
            await Task.Delay(OomDeduplicator.Grace + TimeSpan.FromSeconds(1));
            watcher.Poll(["/" + name], kills);
            var kill = Assert.Single(kills);
            Assert.Equal("/" + name, kill.Cgroup);
            if (watcher.ReadsKernelLog) Assert.Equal((hog.Pid, "tail"), (kill.Pid, kill.Name));
        }
        finally
        {
            for (int i = 0; i < 50 && Directory.Exists(cgroup); i++)
            {
                try { Directory.Delete(cgroup); }
                catch (IOException) { Thread.Sleep(100); }
            }
        }
    }

    private static string? RealOomUnavailable()
    {
        if (Environment.UserName != "root") return "the tests do not run as root";
        var mount = OomWatcher.FindCgroup2Mount();
        if (mount is null) return "no cgroup v2 hierarchy is mounted";
        var controllers = File.ReadAllText(Path.Combine(mount, "cgroup.controllers"));
        if (!controllers.Split(' ', '\n').Contains("memory"))
            return $"the memory controller is not on cgroup v2 here ({mount} offers \"{controllers.Trim()}\"; memory is on cgroup v1)";
        var subtree = File.ReadAllText(Path.Combine(mount, "cgroup.subtree_control"));
        if (!subtree.Split(' ', '\n').Contains("memory"))
            return $"{mount}/cgroup.subtree_control does not enable memory for child cgroups, and a test should not change that";
        return null;
    }
}
