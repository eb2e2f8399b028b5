using System.Text;
using Pipeline.Schemas.Events;

namespace Pipeline.Tests.Producers.Logs;

/// <summary>Lines that are not well-behaved text: bad UTF-8, too long.</summary>
[Collection(LogTailerCollection.Name)]
public class LogTailerLineTests
{
    [Fact]
    public async Task ALineThatIsNotValidUtf8IsShippedWithReplacementCharactersAndFlagged()
    {
        await using var h = new TailerHarness("tail-utf8-host");
        var path = h.LogFile("app.log");
        await h.StartTailerAsync();
        TailerHarness.AppendBytes(path, [.. "good\n"u8, .. "ba"u8, 0xff, 0xfe, .. "d\n"u8, .. "after\n"u8]);

        h.WaitForMessages("good", "after");
        var all = h.WaitFor(r => r.Count >= 3, "three lines");
        var bad = all.Single(r => r.Event.Log.Offset == 5).Event;
        Assert.Equal("ba\uFFFD\uFFFDd", bad.Message);
        Assert.Equal([LogFlags.InvalidUtf8], bad.Log.Flags!);
        Assert.Null(all.Single(r => r.Event.Message == "good").Event.Log.Flags);
        Assert.Null(all.Single(r => r.Event.Message == "after").Event.Log.Flags);
    }

    [Fact]
    public async Task ALineLongerThanMaxLineBytesIsTruncatedAndTheNextLineArrivesIntact()
    {
        await using var h = new TailerHarness("tail-long-host", input => input.MaxLineBytes = 64);
        var path = h.LogFile("app.log");
        await h.StartTailerAsync();
        var longLine = string.Concat(Enumerable.Range(0, 50).Select(i => $"{i:D3}|"));
        TailerHarness.Append(path, "short\n" + longLine + "\nnext line\n");

        h.WaitForMessages("short", "next line");
        var all = h.WaitFor(r => r.Count >= 3, "three lines");
        h.Settle(TimeSpan.FromMilliseconds(500));
        Assert.Equal(3, all.Count);
        var truncated = all.Single(r => r.Event.Log.Offset == 6).Event;
        Assert.Equal(longLine[..64], truncated.Message);
        Assert.Equal([LogFlags.Truncated], truncated.Log.Flags!);
        var next = all.Single(r => r.Event.Message == "next line").Event;
        Assert.Equal(6 + longLine.Length + 1, next.Log.Offset);
        Assert.Null(next.Log.Flags);
    }

    [Fact]
    public async Task ALongLineStillBeingWrittenIsShippedTruncatedOnceAndTheNextLineArrivesIntact()
    {
        await using var h = new TailerHarness("tail-long-partial-host", input => input.MaxLineBytes = 64);
        var path = h.LogFile("app.log");
        await h.StartTailerAsync();
        var head = new string('y', 200);
        TailerHarness.Append(path, head);
        var first = h.WaitFor(r => r.Count >= 1, "the truncated head of the unfinished line");
        Assert.Equal(new string('y', 64), first[0].Event.Message);
        Assert.Equal([LogFlags.Truncated], first[0].Event.Log.Flags!);

        TailerHarness.Append(path, new string('z', 100) + "\nnext line\n");
        h.WaitForMessages("next line");
        h.Settle();
        Assert.Equal(2, h.Received.Count);
        Assert.Equal(301, h.Received.Single(r => r.Event.Message == "next line").Event.Log.Offset);
    }

    [Fact]
    public async Task ATruncatedLastLineIsNotSentAgainAfterARestart()
    {
        await using var h = new TailerHarness("tail-long-restart-host", input => input.MaxLineBytes = 64);
        var path = h.LogFile("app.log");
        await h.StartTailerAsync();
        TailerHarness.Append(path, "short\n" + new string('y', 200));
        h.WaitFor(r => r.Count >= 2, "the short line and the truncated head");
        TailerHarness.Append(path, new string('y', 10) + "\n");
        long size = new FileInfo(path).Length;
        await Pipeline.Testing.Eventually.True(() => h.CheckpointOffset(path) == size, TimeSpan.FromSeconds(10), "checkpoint past the finished long line");
        await h.StopTailerAsync();

        await h.StartTailerAsync();
        TailerHarness.Append(path, "after restart\n");
        h.WaitForMessages("after restart");
        h.Settle();
        LogTailerDeliveryTests.AssertExactlyOnce(h.Received, 3);
        Assert.Equal(Encoding.UTF8.GetByteCount("short\n"), h.Received.Single(r => r.Event.Log.Flags is not null).Event.Log.Offset);
    }

    [Fact]
    public async Task ALineAsLongAsTheDefaultMaxLineBytesIsShippedAndTheTailerCarriesOn()
    {
        await using var h = new TailerHarness("tail-default-max-host");
        Assert.Equal(1024 * 1024, h.Input.MaxLineBytes);
        var path = h.LogFile("app.log");
        await h.StartTailerAsync();
        TailerHarness.Append(path, "before\n" + new string('x', 1024 * 1024 + 10) + "\nafter\n");

        h.WaitForMessages("before", "after");
        h.Settle(TimeSpan.FromMilliseconds(500));
        Assert.Equal(3, h.Received.Count);
        var big = h.Received.Single(r => r.Event.Log.Offset == 7).Event;
        Assert.Equal([LogFlags.Truncated], big.Log.Flags!);
        Assert.True(big.Message.Length > 900_000, $"only {big.Message.Length} bytes of the long line were kept");
        Assert.All(big.Message, c => Assert.Equal('x', c));
    }

    [Fact]
    public async Task TruncationDoesNotCutAMultiByteCharacterInHalf()
    {
        await using var h = new TailerHarness("tail-long-utf8-host", input => input.MaxLineBytes = 64);
        var path = h.LogFile("app.log");
        await h.StartTailerAsync();
        // 'x' then two-byte characters: byte 64 falls in the middle of one.
        var line = "x" + string.Concat(Enumerable.Repeat("é", 100));
        TailerHarness.Append(path, line + "\nnext\n");

        h.WaitForMessages("next");
        var truncated = h.WaitFor(r => r.Count >= 2, "two lines").Single(r => r.Event.Log.Offset == 0).Event;
        Assert.Equal([LogFlags.Truncated], truncated.Log.Flags!);
        Assert.Equal(line[..32], truncated.Message);
    }
}
