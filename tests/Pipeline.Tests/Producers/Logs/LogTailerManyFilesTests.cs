using System.Diagnostics;
using Pipeline.Testing;

namespace Pipeline.Tests.Producers.Logs;

/// <summary>Many files, files that cannot be read, and files that are not files.</summary>
[Collection(LogTailerCollection.Name)]
public class LogTailerManyFilesTests
{
    [Fact]
    public async Task AThousandFilesUnderOneGlobAreAllReadInOrder()
    {
        const int files = 1000, lines = 3;
        await using var h = new TailerHarness("tail-1000-host", input => input.Paths = [Path.Combine(input.Paths[0], "..", "**", "*.log")]);
        for (int f = 0; f < files; f++)
        {
            var dir = Path.Combine(h.LogDir, $"d{f % 10}");
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, $"f{f:D4}.log"), string.Concat(Enumerable.Range(0, lines).Select(i => $"f{f:D4} line {i}\n")));
        }
        var clock = Stopwatch.StartNew();
        await h.StartTailerAsync();
        var received = h.WaitFor(r => r.Count >= files * lines, $"{files * lines} lines", TimeSpan.FromSeconds(60));
        var elapsed = clock.Elapsed;
        h.Settle(TimeSpan.FromMilliseconds(500));
        Assert.Equal(files * lines, h.Received.Count);
        foreach (var file in h.Received.GroupBy(r => r.Event.Log.File.Path))
            Assert.Equal(Enumerable.Range(0, lines).Select(i => $"{Path.GetFileNameWithoutExtension(file.Key)} line {i}"), file.Select(r => r.Event.Message));
        Assert.Equal(files, h.Received.Select(r => r.Event.Log.File.Path).Distinct().Count());
        TestContext.Current.TestOutputHelper?.WriteLine($"{files} files, {files * lines} lines in {elapsed.TotalSeconds:F1} s");

        // And they keep being followed.
        TailerHarness.Append(Path.Combine(h.LogDir, "d7", "f0777.log"), "late\n");
        h.WaitForMessages("late");
    }

    [Fact]
    public async Task AFileThatCannotBeOpenedIsReportedOnceAndTheOthersAreRead()
    {
        // Root reads anything, except what the kernel itself refuses: this proc file is write-only even for root (EACCES).
        const string writeOnly = "/proc/sys/vm/compact_memory";
        if (!File.Exists(writeOnly)) Assert.Skip($"{writeOnly} is not here to provoke EACCES");
        await using var h = new TailerHarness("tail-eacces-host", input => input.ScanInterval = "100ms");
        File.CreateSymbolicLink(h.LogFile("denied.log"), writeOnly);
        await h.StartTailerAsync();
        TailerHarness.Append(h.LogFile("ok.log"), "readable\n");
        h.WaitForMessages("readable");
        // Twenty scans or more: still one warning.
        await Task.Delay(TimeSpan.FromSeconds(2.5), TestContext.Current.CancellationToken);
        TailerHarness.Append(h.LogFile("ok.log"), "still readable\n");
        h.WaitForMessages("still readable");
        var warnings = h.LogMessages.Where(m => m.Contains("denied.log", StringComparison.Ordinal)).ToList();
        var warning = Assert.Single(warnings);
        Assert.StartsWith("Warning: cannot open", warning);
        Assert.Contains("denied", warning, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task AFifoMatchedByTheGlobIsSkippedWithoutBlockingTheTailer()
    {
        await using var h = new TailerHarness("tail-fifo-host", input => input.ScanInterval = "100ms");
        var fifo = h.LogFile("pipe.log");
        var made = await Peers.RunAsync("mkfifo", [fifo]);
        Assert.Equal(0, made.ExitCode);
        await h.StartTailerAsync();
        TailerHarness.Append(h.LogFile("ok.log"), "not blocked\n");
        h.WaitForMessages("not blocked");
        await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        Assert.Single(h.LogMessages, m => m.Contains("pipe.log", StringComparison.Ordinal) && m.Contains("not a regular file", StringComparison.Ordinal));
    }
}
