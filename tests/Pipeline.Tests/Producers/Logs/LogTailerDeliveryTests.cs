using System.Text;
using System.Text.Json;
using Json.Schema;
using Pipeline.Producers.Logs;
using Pipeline.Schemas.Events;
using Pipeline.Testing;

namespace Pipeline.Tests.Producers.Logs;

/// <summary>What reaches <c>ops.logs.v1</c>, and when the checkpoint may move.</summary>
[Collection(LogTailerCollection.Name)]
public class LogTailerDeliveryTests
{
    // Through the schema tests' cache: JsonSchema.Net registers schemas globally by $id, and a second parse of the same file throws.
    private static readonly Lazy<JsonSchema> LogSchema = new(() => Pipeline.Tests.Schemas.SchemaConformanceTests.Schema(Pipeline.Schemas.Topics.TopicCatalog.Logs.SchemaFile));

    [Fact]
    public async Task AppendedLinesArriveAsEcsLogEventsWithTheirByteOffsets()
    {
        await using var h = new TailerHarness("tail-ecs-host", input =>
        {
            input.Fields = new() { ["team"] = "ops" };
            input.Tags = ["edge"];
        });
        var path = h.LogFile("app.log");
        File.WriteAllText(path, "");
        var started = DateTimeOffset.UtcNow.AddSeconds(-1);
        await h.StartTailerAsync();

        // A multi-byte line first, so a character offset would differ from the byte offset; an empty line
        // (sends nothing, still counts bytes) and a CRLF line (the \r is not part of the message).
        string[] raw =
        [
            "2024-05-01 12:00:00 INFO service started\n",
            "héllo wörld, ünïcode ✓\n",
            "ERROR disk /dev/sda1 is full\n",
            "\n",
            "[WARN] slow response\r\n",
            "just a plain line\n",
        ];
        TailerHarness.Append(path, string.Concat(raw));
        var expected = new List<(long Offset, string Message, string? Level)>();
        long offset = 0;
        foreach (var line in raw)
        {
            var message = line.TrimEnd('\n').TrimEnd('\r');
            if (message.Length > 0) expected.Add((offset, message, LevelSniffer.Sniff(Encoding.UTF8.GetBytes(message))));
            offset += Encoding.UTF8.GetByteCount(line);
        }
        Assert.Equal(["info", null, "error", "warn", null], expected.Select(e => e.Level));

        var received = h.WaitFor(r => r.Count >= expected.Count, "all lines");
        h.Settle(TimeSpan.FromMilliseconds(500));
        var identity = FileIdentity.Of(path)!.Value.Identity.ToString();
        Assert.Equal(expected.Count, h.Received.Count);
        foreach (var (e, actual) in expected.Zip(h.Received.OrderBy(r => r.Event.Log.Offset)))
        {
            var ev = actual.Event;
            Assert.Equal(e.Offset, ev.Log.Offset);
            Assert.Equal(e.Message, ev.Message);
            Assert.Equal(e.Level, ev.Log.Level);
            Assert.Equal(EventKinds.Event, ev.Event.Kind);
            Assert.Equal("ops.logs", ev.Event.Dataset);
            Assert.Matches("^[0-9a-f]{32}$", ev.Event.Id);
            Assert.Equal(EventIds.ForLogLine("tail-ecs-host", identity, e.Offset, Encoding.UTF8.GetBytes(e.Message)), ev.Event.Id);
            Assert.Equal("tail-ecs-host", ev.Host.Name);
            Assert.Equal("tail-ecs-host", actual.Key);
            Assert.Equal(path, ev.Log.File.Path);
            Assert.Null(ev.Log.Flags);
            Assert.InRange(ev.Timestamp, started, DateTimeOffset.UtcNow.AddSeconds(1));
            Assert.Equal(["edge"], ev.Tags!);
            Assert.Equal("ops", ev.Labels!["team"]);
            using var doc = JsonDocument.Parse(actual.Json);
            var result = LogSchema.Value.Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            Assert.True(result.IsValid, $"does not satisfy ops.logs.v1.schema.json: {actual.Json}");
        }
        Assert.Equal(expected.Count, received.Select(r => r.Event.Event.Id).Distinct().Count());
    }

    [Fact]
    public async Task TheCheckpointMovesOnlyAfterKafkaAcknowledged()
    {
        await using var h = new TailerHarness("tail-ack-host");
        var path = h.LogFile("app.log");
        TailerHarness.Append(path, "one\ntwo\nthree\n");
        long before = new FileInfo(path).Length;
        await h.StartTailerAsync();
        h.WaitForMessages("one", "two", "three");
        await Eventually.True(() => h.CheckpointOffset(path) == before, TimeSpan.FromSeconds(10), "checkpoint at the delivered size");

        h.Broker.SetBrokerDown(1);
        TailerHarness.Append(path, "four\nfive\nsix\n");
        long after = new FileInfo(path).Length;
        // The tailer reads the new lines at once and saves checkpoints every second; none of them is acknowledged.
        var watchUntil = DateTime.UtcNow + TimeSpan.FromSeconds(3);
        while (DateTime.UtcNow < watchUntil)
        {
            Assert.Equal(before, h.CheckpointOffset(path));
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        h.Broker.SetBrokerUp(1);
        h.WaitForMessages("four", "five", "six");
        await Eventually.True(() => h.CheckpointOffset(path) == after, TimeSpan.FromSeconds(10), "checkpoint at the new size once acknowledged");
        Assert.Equal(["one", "two", "three", "four", "five", "six"], h.Received.OrderBy(r => r.Event.Log.Offset).Select(r => r.Event.Message).Distinct());
    }

    [Fact]
    public async Task LinesWhoseDeliveryTimedOutAreSentAgainAndTheCheckpointStillFollowsOnlyAcks()
    {
        await using var h = new TailerHarness("tail-timeout-host");
        h.Config.Kafka.DeliveryTimeout = "1s";
        var path = h.LogFile("app.log");
        TailerHarness.Append(path, "one\n");
        await h.StartTailerAsync();
        h.WaitForMessages("one");
        long before = new FileInfo(path).Length;
        await Eventually.True(() => h.CheckpointOffset(path) == before, TimeSpan.FromSeconds(10), "checkpoint at the delivered size");

        h.Broker.SetBrokerDown(1);
        var lines = Enumerable.Range(1, 20).Select(i => $"while-down-{i}").ToArray();
        // Spread over time, so deliveries time out (and are re-sent) while others are still queued.
        foreach (var chunk in lines.Chunk(5))
        {
            TailerHarness.Append(path, string.Join('\n', chunk) + "\n");
            await Task.Delay(400, TestContext.Current.CancellationToken);
        }
        long after = new FileInfo(path).Length;
        var watchUntil = DateTime.UtcNow + TimeSpan.FromSeconds(2.5);
        while (DateTime.UtcNow < watchUntil)
        {
            Assert.Equal(before, h.CheckpointOffset(path));
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        h.Broker.SetBrokerUp(1);
        h.WaitForMessages(lines);
        await Eventually.True(() => h.CheckpointOffset(path) == after, TimeSpan.FromSeconds(10), "checkpoint at the new size once acknowledged");
        // A re-send after a timeout may duplicate (the idempotent producer on the mock cannot rule it out);
        // what must hold is that every line arrived with its id and offset unchanged.
        foreach (var group in h.Received.GroupBy(r => r.Event.Log.Offset))
            Assert.Single(group.Select(r => (r.Event.Event.Id, r.Event.Message)).Distinct());
    }

    [Fact]
    public async Task ARestartContinuesWhereDeliveryStoppedWithNothingSkippedOrDuplicated()
    {
        await using var h = new TailerHarness("tail-restart-host");
        var app = h.LogFile("app.log");
        var db = h.LogFile("db.log");
        TailerHarness.Append(app, "app-1\napp-2\napp-3\n");
        TailerHarness.Append(db, "db-1\n");
        await h.StartTailerAsync();
        h.WaitForMessages("app-1", "app-2", "app-3", "db-1");
        // A line still being written when the tailer stops: it is not a line yet.
        TailerHarness.Append(app, "app-4 first half");
        await h.StopTailerAsync();

        TailerHarness.Append(app, ", second half\napp-5\n");
        TailerHarness.Append(db, "db-2\ndb-3\n");
        TailerHarness.Append(h.LogFile("new.log"), "new-1\n");
        await h.StartTailerAsync();
        h.WaitForMessages("app-4 first half, second half", "app-5", "db-2", "db-3", "new-1");
        h.Settle();

        AssertExactlyOnce(h.Received, 9);
    }

    [Fact]
    public async Task ARestartRightAfterACopytruncateNeitherResendsNorSkipsTheNewContent()
    {
        await using var h = new TailerHarness("tail-truncate-restart-host");
        var path = h.LogFile("app.log");
        // More than the 1 KiB fingerprint, so the fingerprint is complete before the truncation.
        var old = Enumerable.Range(1, 40).Select(i => $"old line number {i:D2} with some padding").ToArray();
        TailerHarness.Append(path, string.Join('\n', old) + "\n");
        Assert.True(new FileInfo(path).Length > LogFileReader.FingerprintLength);
        await h.StartTailerAsync();
        h.WaitForMessages(old[^1]);

        File.WriteAllText(path, "");
        TailerHarness.Append(path, "new-1\nnew-2\n");
        h.WaitForMessages("new-1", "new-2");
        long truncatedSize = new FileInfo(path).Length;
        await Eventually.True(() => h.CheckpointOffset(path) == truncatedSize, TimeSpan.FromSeconds(10), "checkpoint at the new content's end");
        await h.StopTailerAsync();

        TailerHarness.Append(path, "new-3\n");
        await h.StartTailerAsync();
        h.WaitForMessages("new-3");
        h.Settle();
        AssertExactlyOnce(h.Received, old.Length + 3, byIdentity: true);
    }

    /// <summary>Every line exactly once by (file, offset); a file's identity tells old from new content after a truncation.</summary>
    internal static void AssertExactlyOnce(IReadOnlyList<Received> received, int expected, bool byIdentity = false)
    {
        var keys = received.Select(r => byIdentity ? (r.Event.Log.File.Path + "|" + r.Event.Message, r.Event.Log.Offset) : (r.Event.Log.File.Path, r.Event.Log.Offset)).ToList();
        var duplicated = keys.GroupBy(k => k).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicated.Count == 0, $"sent more than once: {string.Join(", ", duplicated)}\n{TailerHarness.Describe(received)}");
        Assert.True(received.Count == expected, $"expected {expected} lines, got {received.Count}:\n{TailerHarness.Describe(received)}");
    }
}
