using System.Text;
using System.Text.Json;
using Pipeline.Plumbing.Config;
using Pipeline.Schemas.Events;
using Pipeline.Testing;

namespace Pipeline.Tests.Producers.Logs;

/// <summary>How lines become events end to end: multiline, JSON lines and other encodings, through Kafka.</summary>
[Collection(LogTailerCollection.Name)]
public class LogTailerRecordTests
{
    [Fact]
    public async Task AStackTraceArrivesAsOneEventAndTheLastEventIsSentAfterItsTimeout()
    {
        await using var h = new TailerHarness("tail-multiline-host", input =>
            input.Multiline = new MultilineConfig { Pattern = @"^\s", Timeout = "700ms" });
        var path = h.LogFile("app.log");
        await h.StartTailerAsync();
        TailerHarness.Append(path, "ERROR request failed\n  at A.b()\n  at C.d()\nINFO recovered\n");

        var first = h.WaitForMessages("ERROR request failed\n  at A.b()\n  at C.d()")[0].Event;
        Assert.Equal([LogFlags.Multiline], first.Log.Flags!);
        Assert.Equal(0, first.Log.Offset);
        Assert.Equal("error", first.Log.Level);
        // "INFO recovered" may still be followed by continuation lines: it waits for the timeout, then goes.
        var last = h.WaitForMessages("INFO recovered").Single(r => r.Event.Message == "INFO recovered").Event;
        // Both were read in one pass; @timestamp is when each was sent.
        Assert.True(last.Timestamp - first.Timestamp >= TimeSpan.FromMilliseconds(650), $"the pending event went {last.Timestamp - first.Timestamp} after the first, before its timeout");
        long size = new FileInfo(path).Length;
        await Eventually.True(() => h.CheckpointOffset(path) == size, TimeSpan.FromSeconds(10), "checkpoint past the timed-out event");
        h.Settle(TimeSpan.FromMilliseconds(500));
        Assert.Equal(2, h.Received.Count);
    }

    [Fact]
    public async Task ARestartInTheMiddleOfAMultilineEventSendsItWholeOnce()
    {
        await using var h = new TailerHarness("tail-multiline-restart-host", input =>
            input.Multiline = new MultilineConfig { Pattern = @"^\s", Timeout = "1h" });
        var path = h.LogFile("app.log");
        TailerHarness.Append(path, "first\nsecond\n  second-a\n");
        await h.StartTailerAsync();
        h.WaitForMessages("first");
        // "second" is being assembled: the checkpoint stays at its first byte.
        await Eventually.True(() => h.CheckpointOffset(path) == 6, TimeSpan.FromSeconds(10), "checkpoint at the pending event");
        await h.StopTailerAsync();
        Assert.Equal(6, h.CheckpointOffset(path));

        TailerHarness.Append(path, "  second-b\nthird\n");
        await h.StartTailerAsync();
        h.WaitForMessages("second\n  second-a\n  second-b");
        h.Settle();
        Assert.Equal(["first", "second\n  second-a\n  second-b"], h.Received.Select(r => r.Event.Message));
    }

    [Fact]
    public async Task JsonLinesAreParsedIntoTheJsonFieldAndABadOneIsShippedRawAndFlagged()
    {
        await using var h = new TailerHarness("tail-json-host", input => input.Json = true);
        var path = h.LogFile("app.json.log");
        h.Input.Paths = [h.LogFile("*.log")];
        await h.StartTailerAsync();
        TailerHarness.Append(path, """
            {"level":"error","msg":"db down","latency_ms":1234,"tags":["a","b"],"ctx":{"user":"bob"}}
            {"level":"info", "msg": truncated
            [1,2,3]

            """.ReplaceLineEndings("\n"));

        var all = h.WaitFor(r => r.Count >= 3, "three lines");
        var good = all.Single(r => r.Event.Log.Offset == 0);
        using (var doc = JsonDocument.Parse(good.Json))
        {
            var json = doc.RootElement.GetProperty("json");
            Assert.Equal("db down", json.GetProperty("msg").GetString());
            Assert.Equal(1234, json.GetProperty("latency_ms").GetInt32());
            Assert.Equal("bob", json.GetProperty("ctx").GetProperty("user").GetString());
        }
        Assert.Null(good.Event.Log.Flags);
        Assert.Equal("error", good.Event.Log.Level);
        foreach (var bad in all.Where(r => r.Event.Log.Offset != 0))
        {
            Assert.Equal([LogFlags.JsonError], bad.Event.Log.Flags!);
            using var doc = JsonDocument.Parse(bad.Json);
            Assert.False(doc.RootElement.TryGetProperty("json", out _));
        }
        Assert.Contains(all, r => r.Event.Message == "{\"level\":\"info\", \"msg\": truncated");
        foreach (var r in all)
        {
            using var doc = JsonDocument.Parse(r.Json);
            var result = Pipeline.Tests.Schemas.SchemaConformanceTests.Schema("ops.logs.v1.schema.json").Evaluate(doc.RootElement);
            Assert.True(result.IsValid, r.Json);
        }
    }

    [Fact]
    public async Task AUtf16FileArrivesAsUtf8EventsWithFileByteOffsets()
    {
        await using var h = new TailerHarness("tail-utf16-host", input => input.Encoding = "utf-16le");
        var path = h.LogFile("windows.log");
        File.WriteAllBytes(path, [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes("Überprüfung gestartet\r\nFEHLER: Zugriff verweigert\r\n")]);
        await h.StartTailerAsync();
        h.WaitForMessages("Überprüfung gestartet", "FEHLER: Zugriff verweigert");
        Assert.Equal(2 + 2 * 23, h.Received.Single(r => r.Event.Message.StartsWith("FEHLER", StringComparison.Ordinal)).Event.Log.Offset);
    }
}
