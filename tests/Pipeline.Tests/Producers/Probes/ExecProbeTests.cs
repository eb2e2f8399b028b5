using System.Diagnostics;
using Pipeline.Producers.Probes;
using Pipeline.Testing;

namespace Pipeline.Tests.Producers.Probes;

// Alone: one test measures the process's allocations, and the hang test waits on real time.
[Collection(ProbeTimingCollection.Name)]
public sealed class ExecProbeTests
{
    private static Task<ProbeResult> Exec(params string[] argv) => Probes.RunAsync("exec", configure: c => c.Argv = [.. argv]);

    [Fact]
    public async Task ExitCodesMapTheNodeProblemDetectorWay()
    {
        var ok = await Exec("/bin/sh", "-c", "echo all good");
        Assert.Equal((ProbeStatus.Ok, "all good", 0.0), (ok.Status, ok.Message, ok.Value));
        var problem = await Exec("/bin/sh", "-c", "echo disk is sad; exit 1");
        Assert.Equal((ProbeStatus.Problem, "disk is sad"), (problem.Status, problem.Message));
        var unknown = await Exec("/bin/sh", "-c", "echo cannot tell >&2; exit 3");
        Assert.Equal(ProbeStatus.Unknown, unknown.Status);
        Assert.Contains("cannot tell", unknown.Message);
    }

    [Fact]
    public async Task ArgumentsAreNotInterpretedByAShell()
    {
        var result = await Exec("/bin/echo", "$HOME", "*", ";", "exit 1");
        Assert.Equal((ProbeStatus.Ok, "$HOME * ; exit 1"), (result.Status, result.Message));
    }

    [Fact]
    public async Task AHungCommandIsKilledWithItsWholeTreeAtTheTimeout()
    {
        using var dir = new TempDirectory("pipeline-exec");
        var pidFile = dir.File("grandchild.pid");
        // sh starts a grandchild that ignores SIGTERM and would outlive its parent, then hangs itself.
        var config = Probes.Config("exec", configure: c =>
        {
            c.Argv = ["/bin/sh", "-c", $"sh -c 'trap \"\" TERM; exec sleep 300' & echo $! > {pidFile}; sleep 300"];
            c.Timeout = "700ms";
        });
        var started = Stopwatch.GetTimestamp();
        var report = await Probes.RunOnceAsync(config);
        Assert.Equal((ProbeStatus.Problem, ProbeReasons.Timeout), (report.Result.Status, report.Result.Reason));
        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(15), $"took {Stopwatch.GetElapsedTime(started)}");

        int grandchild = int.Parse((await File.ReadAllTextAsync(pidFile, TestContext.Current.CancellationToken)).Trim());
        await Eventually.True(() => !IsAlive(grandchild), TimeSpan.FromSeconds(5), $"grandchild {grandchild} killed");
    }

    [Fact]
    public async Task AHundredMegabytesOfOutputIsCappedAndTheCommandStillFinishes()
    {
        var config = Probes.Config("exec", configure: c =>
        {
            c.Argv = ["/usr/bin/head", "-c", "100000000", "/dev/zero"];
            c.MaxOutputBytes = 1000;
            c.Timeout = "60s";
        });
        long before = GC.GetTotalAllocatedBytes();
        var report = await Probes.RunOnceAsync(config);
        long allocated = GC.GetTotalAllocatedBytes() - before;
        Assert.Equal(ProbeStatus.Ok, report.Result.Status);
        Assert.Contains("100000000 bytes of output, first 1000 kept", report.Result.Message);
        Assert.True(report.Result.Message.Length < 1200, $"message is {report.Result.Message.Length} chars");
        // Process-wide, so the runner's own allocations count too; buffering the output would be over 100 MB.
        Assert.True(allocated < 50_000_000, $"reading 100 MB allocated {allocated} bytes");
    }

    [Fact]
    public async Task AMissingCommandIsUnknown()
    {
        var result = await Exec("/no/such/check");
        Assert.Equal((ProbeStatus.Unknown, ProbeReasons.Missing), (result.Status, result.Reason));
    }

    private static bool IsAlive(int pid)
    {
        // A killed child not yet reaped by its (also killed) parent is a zombie: dead for our purposes.
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }
}
