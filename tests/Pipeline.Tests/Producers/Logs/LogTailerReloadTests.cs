using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Filters;

namespace Pipeline.Tests.Producers.Logs;

/// <summary>A changed config applied to a running tailer: inputs come and go, filter chains are swapped, files stay open.</summary>
[Collection(LogTailerCollection.Name)]
public class LogTailerReloadTests
{
    [Fact]
    public async Task InputsAreAddedAndRemovedWithoutDisturbingTheOthers()
    {
        await using var h = new TailerHarness("tail-reload-inputs-host");
        var a = Path.Combine(h.LogDir, "a");
        var b = Path.Combine(h.LogDir, "b");
        Directory.CreateDirectory(a);
        Directory.CreateDirectory(b);
        h.Input.Paths = [Path.Combine(a, "*.log")];
        TailerHarness.Append(Path.Combine(a, "a.log"), "a-1\n");
        TailerHarness.Append(Path.Combine(b, "b.log"), "b-1\n");
        await h.StartTailerAsync();
        h.WaitForMessages("a-1");

        var inputB = new LogInputConfig { Paths = [Path.Combine(b, "*.log")], StartAt = "beginning", ScanInterval = "100ms" };
        h.Tailer!.Reload(With(h.Config, Copy(h.Input), inputB));
        TailerHarness.Append(Path.Combine(a, "a.log"), "a-2\n");
        h.WaitForMessages("b-1", "a-2");
        // a.log was opened once: the unchanged input kept its file.
        Assert.Single(h.LogMessages, m => m.Contains("tailing " + Path.Combine(a, "a.log"), StringComparison.Ordinal));

        h.Tailer.Reload(With(h.Config, inputB));
        await Pipeline.Testing.Eventually.True(() => h.LogMessages.Any(m => m.Contains("(its input was removed)", StringComparison.Ordinal)), TimeSpan.FromSeconds(5), "a.log closed");
        TailerHarness.Append(Path.Combine(a, "a.log"), "a-3 after removal\n");
        TailerHarness.Append(Path.Combine(b, "b.log"), "b-2\n");
        h.WaitForMessages("b-2");
        h.Settle();
        Assert.DoesNotContain(h.Received, r => r.Event.Message == "a-3 after removal");
        Assert.Equal(2, h.Tailer.ReloadsApplied);
        LogTailerFileLifecycleTests.AssertEachMessageOnce(h.Received, "a-1", "a-2", "b-1", "b-2");
        // The removed input's file stays in the registry where delivery stopped, for when it comes back.
        Assert.Equal(8, h.CheckpointOffset(Path.Combine(a, "a.log")));
    }

    [Fact]
    public async Task AFilterChainIsSwappedBetweenTwoLinesAndTheFileStaysOpen()
    {
        await using var h = new TailerHarness("tail-reload-filters-host");
        var path = h.LogFile("app.log");
        await h.StartTailerAsync();
        TailerHarness.Append(path, "before-1\n");
        h.WaitForMessages("before-1");

        var filtered = Copy(h.Input);
        filtered.Filters =
        [
            new FilterConfig { Type = "drop", Where = "message contains \"noise\"" },
            new FilterConfig { Type = "add_fields", Fields = new() { ["labels.chain"] = "v2" } },
        ];
        h.Tailer!.Reload(With(h.Config, filtered));
        await Pipeline.Testing.Eventually.True(() => h.Tailer.ReloadsApplied == 1, TimeSpan.FromSeconds(5), "reload applied");
        TailerHarness.Append(path, "noise\nafter-1\n");
        h.WaitForMessages("after-1");
        h.Settle(TimeSpan.FromMilliseconds(500));

        Assert.Null(h.Received.Single(r => r.Event.Message == "before-1").Event.Labels);
        Assert.Equal("v2", h.Received.Single(r => r.Event.Message == "after-1").Event.Labels!["chain"]);
        Assert.DoesNotContain(h.Received, r => r.Event.Message == "noise");
        Assert.Single(h.LogMessages, m => m.Contains("tailing " + path, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AReloadWithAFilterThatCannotBeBuiltIsRefusedAndTheRunningChainStays()
    {
        await using var h = new TailerHarness("tail-reload-bad-host");
        var path = h.LogFile("app.log");
        await h.StartTailerAsync();
        var broken = Copy(h.Input);
        broken.Filters = [new FilterConfig { Type = "regex", Pattern = "(?<unclosed" }];
        Assert.Throws<ArgumentException>(() => h.Tailer!.Reload(With(h.Config, broken)));
        TailerHarness.Append(path, "still running\n");
        h.WaitForMessages("still running");
        Assert.Equal(0, h.Tailer!.ReloadsApplied);
    }

    private static PipelineConfig With(PipelineConfig c, params LogInputConfig[] inputs) => new()
    {
        DataDir = c.DataDir,
        HostName = c.HostName,
        Kafka = c.Kafka,
        Logs = new LogsConfig { Inputs = [.. inputs], MaxInFlightBytes = c.Logs.MaxInFlightBytes },
    };

    private static LogInputConfig Copy(LogInputConfig i) => new()
    {
        Paths = [.. i.Paths],
        Exclude = [.. i.Exclude],
        StartAt = i.StartAt,
        ScanInterval = i.ScanInterval,
        MaxLineBytes = i.MaxLineBytes,
        Fields = new(i.Fields),
        Tags = [.. i.Tags],
    };
}
