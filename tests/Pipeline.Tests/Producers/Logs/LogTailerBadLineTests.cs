using System.Text;
using Pipeline.Schemas.Events;
using Pipeline.Testing;

namespace Pipeline.Tests.Producers.Logs;

/// <summary>The "bad lines" row in one file: 10 MB lines, NUL bytes, CRLF and invalid UTF-8 between good lines.</summary>
[Collection(LogTailerCollection.Name)]
public class LogTailerBadLineTests
{
    [Fact]
    public async Task TenMegabyteLinesNulBytesCrlfAndInvalidUtf8AllArriveAndTheLinesAroundThemIntact()
    {
        await using var h = new TailerHarness("tail-bad-lines-host");
        var path = h.LogFile("bad.log");
        var tenMb = new byte[10 * 1024 * 1024];
        Array.Fill(tenMb, (byte)'x');
        using (var f = new FileStream(path, FileMode.Create))
        {
            f.Write("good-1\n"u8);
            f.Write(tenMb);
            f.Write("\n"u8);
            f.Write([.. "nul"u8, 0, .. "in"u8, 0, 0, .. "side\n"u8]);
            f.Write("crlf line\r\n"u8);
            f.Write([.. "bad "u8, 0xC3, 0x28, .. " utf8 "u8, 0xF0, 0x9F, .. "\n"u8]);
            f.Write(tenMb);
            f.Write("\r\n"u8);
            f.Write("good-2\n"u8);
        }
        long size = new FileInfo(path).Length;
        await h.StartTailerAsync();
        var all = h.WaitFor(r => r.Any(e => e.Event.Message == "good-2"), "the last good line", TimeSpan.FromSeconds(30));
        await Eventually.True(() => h.CheckpointOffset(path) == size, TimeSpan.FromSeconds(20), "checkpoint at the end of the file");
        h.Settle(TimeSpan.FromMilliseconds(500));

        var byOffset = h.Received.GroupBy(r => r.Event.Log.Offset).ToDictionary(g => g.Key, g => g.First().Event);
        Assert.Equal(7, byOffset.Count);
        Assert.Equal("good-1", byOffset[0].Message);
        var big = byOffset[7];
        Assert.Equal([LogFlags.Truncated], big.Log.Flags!);
        Assert.InRange(big.Message.Length, 900_000, 1024 * 1024);
        long next = 7 + tenMb.Length + 1;
        Assert.Equal("nul\0in\0\0side", byOffset[next].Message);
        Assert.Null(byOffset[next].Log.Flags);
        Assert.Equal("crlf line", byOffset[next + 13].Message);
        var bad = byOffset[next + 13 + 11].Message;
        Assert.Equal("bad \uFFFD( utf8 \uFFFD", bad);
        Assert.Equal([LogFlags.InvalidUtf8], byOffset[next + 13 + 11].Log.Flags!);
        Assert.Equal([LogFlags.Truncated], byOffset[next + 13 + 11 + 15].Log.Flags!);
        Assert.Equal("good-2", byOffset[size - 7].Message);
        Assert.Equal(7, h.Received.Count);
    }
}
