using Pipeline.Plumbing.Expressions;
using Pipeline.Producers.Process;
using Pipeline.Testing;

namespace Pipeline.Tests.Producers.Process;

/// <summary>
/// The collector against real processes the tests start. Not run alongside other tests: on a
/// 2-core machine their load would starve the CPU burner.
/// </summary>
[Collection(nameof(RealProcesses))]
public class ProcessCollectorTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task AParentItsChildrenAndGrandchildrenFormATreeAndAPpidFilterKeepsWholeSubtrees()
    {
        using var family = Spawned.Shell("sleep 300 & sh -c 'sleep 301 & sleep 302 & wait' & wait");
        var collector = new ProcessCollector();
        var snapshot = await Eventually.Get(() => Task.FromResult<ProcessSnapshot?>(collector.Sample()),
            s => Descendants(s!, family.Pid) == 4, Settle, "the parent's 2 children and 2 grandchildren");
        var tree = new ProcessTree(snapshot.Processes);
        var children = tree.ChildrenOf(family.Pid);
        Assert.Equal(2, children.Count);
        var shell = Assert.Single(children, c => c.Name == "sh");
        Assert.Equal(["sleep 301", "sleep 302"], tree.ChildrenOf(shell.Pid).Select(g => g.CommandLine).Order());

        var keep = tree.Select(Expression.Parse($"ppid=={family.Pid}"), out var matches);
        Assert.Equal(children.Select(c => c.Pid).Order(), matches.Order());
        Assert.Equal(4, keep.Count); // the 2 matches and their 2 descendants, not the parent itself
        Assert.DoesNotContain(family.Pid, keep);
        var rows = ProcessListing.Rows(snapshot.Processes, Expression.Parse($"ppid=={family.Pid}"), ProcessSort.Pid, tree: true);
        Assert.Equal(4, rows.Count);
        Assert.All(rows, r => Assert.Equal(r.Process.Ppid == family.Pid ? 0 : 1, r.Depth));
        Assert.Equal(2, rows.Count(r => r.Matched));
    }

    [Fact]
    public async Task AProcessWhoseNameHoldsASpaceAndAParenthesisIsReadCorrectly()
    {
        using var dir = new TempDirectory();
        var weird = dir.File("we ird) name");
        File.Copy("/bin/sleep", weird); // keeps the executable bits
        using var process = Spawned.Run(weird, "300");
        var collector = new ProcessCollector();
        var record = await Eventually.Get(() => Task.FromResult(collector.Sample().Processes.FirstOrDefault(p => p.Pid == process.Pid)),
            // Asleep, once exec is done: right after the fork it can still be seen running ('R') on a busy machine.
            r => r?.Name == "we ird) name" && r.State == 'S', Settle, "the process named \"we ird) name\", asleep");
        Assert.Equal([weird, "300"], record.Args!);
        Assert.Equal($"{weird} 300", record.CommandLine);
        Assert.Equal(weird, record.Executable);
        Assert.Equal('S', record.State);
        Assert.True(Expression.Parse("name == \"we ird) name\" && ppid == " + Environment.ProcessId).Matches(new ProcessFieldSource(record)));
    }

    [Fact]
    public async Task ACpuBurnerShowsAboveFiftyPercentWithinTwoSamples()
    {
        using var burner = await Spawned.CpuBurnerAsync();
        bool boosted = burner.Boosted;
        var collector = new ProcessCollector();
        await Task.Delay(300);
        var first = collector.Sample().Processes.Single(p => p.Pid == burner.Pid).CpuPct; // since it started
        await Task.Delay(1000);
        var snapshot = collector.Sample();
        var record = snapshot.Processes.Single(p => p.Pid == burner.Pid); // since the first sample
        Assert.True(Math.Max(first, record.CpuPct) > 50, $"burner at {first}% then {record.CpuPct}% of one core (autogroup boosted: {boosted})");
        Assert.Equal("/bin/sh -c while :; do :; done", record.CommandLine);
        TestContext.Current.TestOutputHelper?.WriteLine($"burner: {first}% then {record.CpuPct}% (autogroup boosted: {boosted})");
        Assert.Equal(Math.Round(record.CpuPct / snapshot.Host.Cpus, 2), record.CpuTotalPct, 1);
        Assert.True(Expression.Parse("cpu > 20").Matches(new ProcessFieldSource(record)));
    }

    [Fact]
    public async Task AZombieIsListedAsDefunctWithoutACommandLine()
    {
        // The shell starts a child, then becomes `sleep` by exec; sleep never reaps, so the child stays a zombie.
        using var parent = Spawned.Shell("/bin/true & exec sleep 300");
        var collector = new ProcessCollector();
        var zombie = await Eventually.Get(() => Task.FromResult(collector.Sample().Processes.FirstOrDefault(p => p.Ppid == parent.Pid)),
            z => z?.IsZombie == true, Settle, "a zombie child");
        Assert.Null(zombie.CommandLine);
        Assert.Null(zombie.Args);
        Assert.Equal("[true] <defunct>", zombie.DisplayCommand);
        Assert.Equal(0, zombie.RssBytes);
    }

    [Fact]
    public void KernelThreadsHaveNoCommandLineOrExecutable()
    {
        var processes = new ProcessCollector().Sample().Processes;
        var kthreads = processes.Where(p => p.IsKernelThread).ToList();
        if (kthreads.Count == 0) Assert.Skip("no kernel threads are visible (this /proc belongs to a pid namespace)");
        Assert.All(kthreads, k =>
        {
            Assert.Null(k.CommandLine);
            Assert.Null(k.Executable);
            Assert.Equal($"[{k.Name}]", k.DisplayCommand);
        });
    }

    [Fact]
    public async Task StartsAndExitsBetweenSamplesAreSeenByTheCheapScan()
    {
        var collector = new ProcessCollector();
        collector.Sample();
        int pid;
        using (var p = Spawned.Run("/bin/sleep", "300"))
        {
            pid = p.Pid;
            var started = await Eventually.Get(() => Task.FromResult<List<ProcessRecord>?>([.. collector.Scan().Started]),
                s => s!.Any(r => r.Pid == pid), Settle, "the start");
            Assert.Equal("sleep", started.Single(r => r.Pid == pid).Name);
        }
        var exited = await Eventually.Get(() => Task.FromResult<List<ProcessRecord>?>([.. collector.Scan().Exited]),
            s => s!.Any(r => r.Pid == pid), Settle, "the exit");
        Assert.Equal("/bin/sleep 300", exited.Single(r => r.Pid == pid).CommandLine);
        Assert.Same(exited.Single(r => r.Pid == pid), collector.Find(pid)); // kept a while, to name OOM victims
    }

    [Fact]
    public void UsageOfOwnProcessIsReadInFull()
    {
        var self = new ProcessCollector().Sample().Processes.Single(p => p.Pid == Environment.ProcessId);
        Assert.True(self.RssBytes > 1 << 20);
        Assert.True(self.VirtualBytes > self.RssBytes);
        Assert.True(self.Threads > 1);
        Assert.NotNull(self.ReadBytes);
        Assert.True(self.FdCount > 2);
        Assert.Equal(Environment.UserName, self.User);
        Assert.True(self.Start < DateTimeOffset.UtcNow && self.Start > DateTimeOffset.UtcNow.AddDays(-1));
        Assert.StartsWith("/", self.Cgroup.Path);
    }

    private static int Descendants(ProcessSnapshot snapshot, int root)
    {
        var tree = new ProcessTree(snapshot.Processes);
        int n = 0;
        var stack = new Stack<int>([root]);
        while (stack.Count > 0)
        {
            foreach (var child in tree.ChildrenOf(stack.Pop()))
            {
                n++;
                stack.Push(child.Pid);
            }
        }
        return n;
    }
}

[CollectionDefinition(DisableParallelization = true)]
public sealed class RealProcesses;
