using System.Text;
using System.Text.Json;
using Pipeline.Plumbing.Filters;
using Pipeline.Producers.Logs;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;
using Pipeline.Schemas.Topics;
using Pipeline.Testing;

namespace Pipeline.Tests.Producers.Logs;

/// <summary>Filter chains at the edge: what they change, what they drop, what they dead-letter, and the checkpoint through it all.</summary>
[Collection(LogTailerCollection.Name)]
public class LogTailerFilterTests
{
    [Fact]
    public async Task FiltersChangeEventsAtTheEdgeAndDroppedLinesStillMoveTheCheckpoint()
    {
        await using var h = new TailerHarness("tail-filter-host", input => input.Filters =
        [
            new FilterConfig { Type = "drop", Where = "message contains \"/health\"" },
            new FilterConfig { Type = "regex", Pattern = @"^(?<method>[A-Z]+) (?<path>\S+) (?<status>\d{3})", Target = "http" },
            new FilterConfig { Type = "redact" },
            new FilterConfig { Type = "add_fields", Fields = new() { ["labels.edge"] = "yes" } },
        ]);
        var path = h.LogFile("access.log");
        await h.StartTailerAsync();
        TailerHarness.Append(path, "GET /health 200\nPOST /login 500 password=hunter2\nGET /health 200\n");

        var received = h.WaitFor(r => r.Count >= 1, "the one line not dropped");
        long size = new FileInfo(path).Length;
        // The last line was dropped, yet the checkpoint reaches the end: dropped lines need no ack, only order.
        await Eventually.True(() => h.CheckpointOffset(path) == size, TimeSpan.FromSeconds(10), "checkpoint at the end of the file");
        h.Settle(TimeSpan.FromMilliseconds(500));
        var e = Assert.Single(h.Received);
        Assert.Equal("POST /login 500 password=[REDACTED]", e.Event.Message);
        Assert.Equal(16, e.Event.Log.Offset);
        Assert.Equal("yes", e.Event.Labels!["edge"]);
        using var doc = JsonDocument.Parse(e.Json);
        Assert.Equal("500", doc.RootElement.GetProperty("http").GetProperty("status").GetString());
        // The id is still the line's own, so a replay of the filtered event is recognised downstream.
        Assert.Equal(EventIds.ForLogLine("tail-filter-host", FileIdentity.Of(path)!.Value.Identity.ToString(), 16, "POST /login 500 password=hunter2"u8), e.Event.Event.Id);
    }

    [Fact]
    public async Task AnEdgeFilterThatSetsHostNameKeysTheRecordByItSoTheProcessorsTakeIt()
    {
        await using var h = new TailerHarness("tail-filter-key-host", input => input.Filters =
        [
            new FilterConfig { Type = "add_fields", Fields = new() { ["host.name"] = "web-01.prod" } },
        ]) { AlsoHostName = "web-01.prod" };
        var path = h.LogFile("app.log");
        await h.StartTailerAsync();
        TailerHarness.Append(path, "one\ntwo\n");

        var received = h.WaitForMessages("one", "two");
        Assert.All(received, r =>
        {
            Assert.Equal("web-01.prod", r.Event.Host.Name);
            Assert.Equal("web-01.prod", r.Key);
            // The processors' own check: a record keyed by anything but its host.name is dead-lettered as key_mismatch.
            var decoded = Pipeline.Processors.Decoding.EventDecoder.Decode(TopicCatalog.Logs.Name, Encoding.UTF8.GetBytes(r.Json));
            Assert.Null(Pipeline.Processors.Decoding.EventDecoder.KeyMismatch(TopicCatalog.Logs.Name, r.Key, decoded));
        });
    }

    [Fact]
    public async Task AFilterThatFailsSendsItsLineToTheDeadLetterTopicAndTheInputCarriesOn()
    {
        // A catastrophic-backtracking pattern times out (50 ms) on a long run of 'a's: a real filter failure.
        await using var h = new TailerHarness("tail-filter-dead-host", input => input.Filters =
        [
            new FilterConfig { Type = "regex", Pattern = "^(?<x>(a+)+)$", OnError = "deadletter" },
        ]);
        var path = h.LogFile("app.log");
        await h.StartTailerAsync();
        var poison = new string('a', 40) + "!";
        TailerHarness.Append(path, $"before\n{poison}\nafter\n");

        h.WaitForMessages("before", "after");
        long size = new FileInfo(path).Length;
        await Eventually.True(() => h.CheckpointOffset(path) == size, TimeSpan.FromSeconds(10), "checkpoint past the dead-lettered line");
        Assert.DoesNotContain(h.Received, r => r.Event.Message == poison);
        var dead = Assert.Single(h.ReadTopic("ops.deadletter.v1"));
        var letter = JsonSerializer.Deserialize(dead, EventJsonContext.Default.DeadLetterEvent)!;
        Assert.Equal("producers.logs", letter.DeadLetter.Stage);
        Assert.Equal("filter_error", letter.DeadLetter.Reason);
        Assert.Equal("file:" + path, letter.DeadLetter.Source.Topic);
        Assert.Equal(7, letter.DeadLetter.Source.Offset);
        Assert.Contains("RegexMatchTimeoutException", letter.Error.Message);
        // The original is the event as it would have been sent.
        var original = JsonSerializer.Deserialize(Convert.FromBase64String(letter.DeadLetter.Original), EventJsonContext.Default.LogEvent)!;
        Assert.Equal(poison, original.Message);
    }

    [Fact]
    public async Task AFilterThatFailsWithPassSendsTheLineUnfiltered()
    {
        await using var h = new TailerHarness("tail-filter-pass-host", input => input.Filters =
        [
            new FilterConfig { Type = "add_fields", Fields = new() { ["labels.first"] = "ran" } },
            new FilterConfig { Type = "regex", Pattern = "^(?<x>(a+)+)$" },
        ]);
        var path = h.LogFile("app.log");
        await h.StartTailerAsync();
        var poison = new string('a', 40) + "!";
        TailerHarness.Append(path, $"{poison}\nok\n");
        h.WaitForMessages(poison, "ok");
        // Unfiltered: not even the filter before the failing one left a mark.
        Assert.Null(h.Received.Single(r => r.Event.Message == poison).Event.Labels);
        Assert.Equal("ran", h.Received.Single(r => r.Event.Message == "ok").Event.Labels!["first"]);
        Assert.Empty(h.ReadTopic("ops.deadletter.v1", TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task DeadLettersAndLinesInterleavedKeepTheCheckpointInOrder()
    {
        await using var h = new TailerHarness("tail-filter-order-host", input => input.Filters =
        [
            new FilterConfig { Type = "regex", Pattern = "^(?<x>(a+)+)$", OnError = "deadletter", Where = "message startswith \"a\"" },
        ]);
        var path = h.LogFile("app.log");
        await h.StartTailerAsync();
        var poison = new string('a', 34) + "!";
        var lines = Enumerable.Range(0, 60).Select(i => i % 5 == 0 ? poison : $"line {i}").ToArray();
        TailerHarness.Append(path, string.Join('\n', lines) + "\n");
        h.WaitForMessages(lines.Where(l => l != poison).ToArray());
        long size = new FileInfo(path).Length;
        await Eventually.True(() => h.CheckpointOffset(path) == size, TimeSpan.FromSeconds(15), "checkpoint at the end");
        Assert.Equal(12, h.ReadTopic("ops.deadletter.v1").Count);
        Assert.Equal(0, h.Tailer!.InFlightBytes);
    }
}
