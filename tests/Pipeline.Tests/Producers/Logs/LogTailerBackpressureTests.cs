using Pipeline.Testing;

namespace Pipeline.Tests.Producers.Logs;

/// <summary>While Kafka is away, reading pauses at the configured in-flight bytes: the file holds the rest.</summary>
[Collection(LogTailerCollection.Name)]
public class LogTailerBackpressureTests
{
    [Fact]
    public async Task WhileTheBrokerIsDownNoMoreThanMaxInFlightBytesAreReadAndEverythingArrivesAfterwards()
    {
        const long limit = 256 * 1024;
        await using var h = new TailerHarness("tail-backpressure-host");
        h.Config.Logs.MaxInFlightBytes = limit;
        var path = h.LogFile("app.log");
        TailerHarness.Append(path, "before\n");
        await h.StartTailerAsync();
        h.WaitForMessages("before");

        h.Broker.SetBrokerDown(1);
        const int lines = 12_000;
        TailerHarness.Append(path, string.Concat(Enumerable.Range(0, lines).Select(i => $"while down {i:D5} {new string('p', 60)}\n")));
        long size = new FileInfo(path).Length;
        long peak = 0;
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(3);
        while (DateTime.UtcNow < until)
        {
            peak = Math.Max(peak, h.Tailer!.InFlightBytes);
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
        // Encoded, the lines are about 4 MB; at most the limit plus the one event that crossed it was taken from the file.
        Assert.InRange(peak, limit / 2, limit + 2048);
        Assert.True(h.CheckpointOffset(path) < size);

        h.Broker.SetBrokerUp(1);
        var received = h.WaitFor(r => r.Count(e => e.Event.Message.StartsWith("while down", StringComparison.Ordinal)) >= lines, $"{lines} lines", TimeSpan.FromSeconds(30));
        await Eventually.True(() => h.CheckpointOffset(path) == size, TimeSpan.FromSeconds(10), "checkpoint at the end");
        Assert.Equal(lines, received.Where(e => e.Event.Message.StartsWith("while down", StringComparison.Ordinal)).Select(e => e.Event.Log.Offset).Distinct().Count());
        TestContext.Current.TestOutputHelper?.WriteLine($"peak in flight {peak} bytes (limit {limit}) while {size} bytes waited in the file");
    }
}
