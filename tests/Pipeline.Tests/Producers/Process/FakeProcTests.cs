using Pipeline.Producers.Process;
using Pipeline.Testing;

namespace Pipeline.Tests.Producers.Process;

/// <summary>
/// Cases a live /proc cannot be made to show on demand (pid reuse, a process vanishing mid-read),
/// played on a proc tree written to a temp directory. The collector reads it exactly as /proc.
/// </summary>
public class FakeProcTests
{
    private const long Ticks = 100; // USER_HZ on Linux

    private static void WriteHost(TempDirectory proc, double uptime)
    {
        File.WriteAllText(proc.File("stat"), "cpu  1 1 1 1\ncpu0 1 1 1 1\ncpu1 1 1 1 1\nbtime 1764000000\n");
        File.WriteAllText(proc.File("uptime"), $"{uptime:0.00} 1.00\n");
        File.WriteAllText(proc.File("meminfo"), "MemTotal: 1000000 kB\nMemAvailable: 500000 kB\n");
        File.WriteAllText(proc.File("loadavg"), "0.50 0.40 0.30 1/100 4242\n");
    }

    private static void WriteProcess(TempDirectory proc, int pid, string name, long startTicks, long cpuTicks, string cmdline)
    {
        Directory.CreateDirectory(proc.File(pid.ToString()));
        File.WriteAllText(proc.File($"{pid}/stat"), $"{pid} ({name}) S 1 {pid} {pid} 0 -1 4194560 0 0 0 0 {cpuTicks} 0 0 0 20 0 1 0 {startTicks} 1000000 25 18446744073709551615\n");
        File.WriteAllText(proc.File($"{pid}/status"), $"Name:\t{name}\nUid:\t0\t0\t0\t0\n");
        File.WriteAllText(proc.File($"{pid}/cmdline"), cmdline.Replace(' ', '\0') + "\0");
        File.WriteAllText(proc.File($"{pid}/io"), "read_bytes: 1\nwrite_bytes: 2\n");
        File.WriteAllText(proc.File($"{pid}/cgroup"), "0::/system.slice/app.service\n");
        Directory.CreateDirectory(proc.File($"{pid}/fd"));
    }

    [Fact]
    public void AReusedPidIsANewProcessAndItsCpuIsNotMixedWithTheOldOne()
    {
        using var proc = new TempDirectory("fake-proc");
        WriteHost(proc, uptime: 1000);
        WriteProcess(proc, 100, "old", startTicks: 50 * Ticks, cpuTicks: 95 * Ticks, "old --serve");
        var collector = new ProcessCollector(proc.Path);
        var first = collector.Sample().Processes.Single();
        Assert.Equal("old", first.Name);
        Assert.Equal(10, first.CpuPct, 1); // 95 s of CPU in 950 s alive, on the first sight

        // The old process exits; a new one gets pid 100 and has used little CPU so far.
        WriteHost(proc, uptime: 1001);
        WriteProcess(proc, 100, "new", startTicks: 991 * Ticks, cpuTicks: 1 * Ticks, "new --job");
        var second = collector.Sample();
        var exited = Assert.Single(second.Exited);
        var started = Assert.Single(second.Started);
        Assert.Equal(("old", 50 * Ticks), (exited.Name, exited.StartTicks));
        Assert.Equal(("new", 991 * Ticks), (started.Name, started.StartTicks));
        Assert.Equal(10, started.CpuPct, 1); // 1 s in 10 s; a delta against the old process would be negative
        Assert.Equal("new --job", started.CommandLine);
        Assert.Equal("app.service", started.Cgroup.SystemdUnit);
    }

    [Fact]
    public void AProcessThatVanishesBetweenListingAndReadingIsSkippedAndCounted()
    {
        using var proc = new TempDirectory("fake-proc");
        WriteHost(proc, uptime: 1000);
        WriteProcess(proc, 100, "alive", 50 * Ticks, 0, "alive");
        Directory.CreateDirectory(proc.File("200")); // listed, but its files are gone: it exited
        var snapshot = new ProcessCollector(proc.Path).Sample();
        Assert.Equal("alive", Assert.Single(snapshot.Processes).Name);
        Assert.Equal(1, snapshot.Races);
    }

    [Fact]
    public void UsageIsSinceThePreviousSampleAndMemoryIsAShareOfTheHost()
    {
        using var proc = new TempDirectory("fake-proc");
        WriteHost(proc, uptime: 1000);
        WriteProcess(proc, 100, "app", 0, 0, "app");
        var collector = new ProcessCollector(proc.Path);
        collector.Sample();
        Thread.Sleep(1000);
        WriteProcess(proc, 100, "app", 0, 150, "app"); // 1.5 s of CPU in about 1 s: 1.5 cores
        var p = collector.Sample().Processes.Single();
        Assert.InRange(p.CpuPct, 50, 160); // 150 on an idle machine; a loaded one stretches the 1 s sleep
        Assert.Equal(p.CpuPct / 2, p.CpuTotalPct, 1); // 2 cpus in the fake /proc/stat
        Assert.Equal(25 * Environment.SystemPageSize, p.RssBytes);
        Assert.Equal(100.0 * p.RssBytes / 1_024_000_000, p.MemoryPct, 3);
        Assert.Equal((1L, 2L), (p.ReadBytes, p.WriteBytes));
        Assert.Equal(0, p.FdCount);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1764000000), p.Start);
    }
}
