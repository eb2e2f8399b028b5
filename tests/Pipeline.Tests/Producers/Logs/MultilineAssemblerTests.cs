using Pipeline.Plumbing.Config;
using Pipeline.Producers.Logs;
using Pipeline.Testing;

namespace Pipeline.Tests.Producers.Logs;

/// <summary>Lines joined into events with Filebeat's pattern/negate/match semantics, read from real files.</summary>
public class MultilineAssemblerTests : IDisposable
{
    private readonly TempDirectory _dir = new("pipeline-multiline");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void MatchAfterAppendsContinuationLinesToTheLineBeforeThem()
    {
        var (reader, sink) = Read("""
            2024-05-01 ERROR request failed
            java.lang.IllegalStateException: boom
                at com.example.Foo.bar(Foo.java:42)
                at com.example.Main.main(Main.java:7)
            2024-05-01 INFO next request

            """, new MultilineConfig { Pattern = @"^\s", Match = "after" });
        using (reader)
        {
            // "java.lang..." does not match ^\s: it starts its own event; the two "at" lines join it.
            Assert.Equal(["2024-05-01 ERROR request failed", "java.lang.IllegalStateException: boom\n    at com.example.Foo.bar(Foo.java:42)\n    at com.example.Main.main(Main.java:7)"], sink.Texts);
            Assert.Equal(LineFlags.None, sink.Lines[0].Flags);
            Assert.Equal(LineFlags.Multiline, sink.Lines[1].Flags);
            Assert.Equal(32, sink.Lines[1].Offset);
            // The last line waits: another continuation may still come.
            Assert.True(reader.Multiline!.HasPending);
        }
    }

    [Fact]
    public void NegateJoinsEveryLineThatDoesNotStartANewRecord()
    {
        var text = """
            2024-05-01 12:00:00 ERROR failed
            Traceback (most recent call last):
              File "x.py", line 1

            ValueError: bad
            2024-05-01 12:00:01 INFO ok
            2024-05-01 12:00:02 INFO done

            """;
        var (reader, sink) = Read(text, new MultilineConfig { Pattern = @"^\d{4}-\d{2}-\d{2}", Negate = true, Match = "after" });
        using (reader)
        {
            Assert.Equal(
                ["2024-05-01 12:00:00 ERROR failed\nTraceback (most recent call last):\n  File \"x.py\", line 1\n\nValueError: bad", "2024-05-01 12:00:01 INFO ok"],
                sink.Texts);
            // The event's ack offset is where the next event starts: the empty line inside it is covered.
            Assert.Equal(sink.Lines[1].Offset, sink.Lines[0].AckOffset);
        }
    }

    [Fact]
    public void MatchBeforeContinuesALineIntoTheNextUntilOneDoesNotMatch()
    {
        var (reader, sink) = Read("""
            SELECT * \
              FROM t \
              WHERE x = 1
            single line
            
            """, new MultilineConfig { Pattern = @"\\$", Match = "before" });
        using (reader)
        {
            Assert.Equal(["SELECT * \\\n  FROM t \\\n  WHERE x = 1", "single line"], sink.Texts);
            Assert.False(reader.Multiline!.HasPending);
        }
    }

    [Fact]
    public void MaxLinesDropsTheRestOfAnEventAndFlagsItButStillCoversItsBytes()
    {
        var lines = new[] { "head" }.Concat(Enumerable.Range(1, 10).Select(i => $" cont {i}")).Append("next").Append("");
        var (reader, sink) = Read(string.Join('\n', lines), new MultilineConfig { Pattern = @"^\s", MaxLines = 3 });
        using (reader)
        {
            Assert.Equal("head\n cont 1\n cont 2", sink.Lines[0].Text);
            Assert.Equal(LineFlags.Multiline | LineFlags.Truncated, sink.Lines[0].Flags);
            Assert.Equal(string.Join('\n', lines).IndexOf("next", StringComparison.Ordinal), sink.Lines[0].AckOffset);
        }
    }

    [Fact]
    public void APendingEventIsSentWhenItsTimeoutPassesAndHoldsTheCheckpointUntilThen()
    {
        var (reader, sink) = Read("first\n  continued\n", new MultilineConfig { Pattern = @"^\s", Timeout = "2s" });
        using (reader)
        {
            Assert.Empty(sink.Lines);
            // Nothing is in flight, yet the offset may not pass the event's first line: it exists only in memory.
            Assert.Equal(0, reader.ReadLines(sink, 100, out _));
            Assert.Equal(0, reader.AckedOffset);

            reader.FlushIfIdle(sink, DateTime.UtcNow.AddSeconds(1));
            Assert.Empty(sink.Lines);
            reader.FlushIfIdle(sink, DateTime.UtcNow.AddSeconds(3));
            Assert.Equal(["first\n  continued"], sink.Texts);
            reader.OnDelivered(true);
            Assert.Equal(18, reader.AckedOffset);
        }
    }

    [Fact]
    public void ARewindForgetsThePendingEventSoItIsReadAgainWhole()
    {
        var path = _dir.File("rewind.log");
        File.WriteAllText(path, "a\nb\n  b1\n");
        using var reader = new LogFileReader(path, FileIdentity.Of(path)!.Value, 0, 1024, null, new MultilineAssembler(new MultilineConfig { Pattern = @"^\s" }, 1024));
        var sink = new CollectingSink();
        reader.ReadLines(sink, 100, out _);
        Assert.Equal(["a"], sink.Texts);
        reader.OnDelivered(false);
        reader.RewindToAcked();
        File.AppendAllText(path, "c\n");
        reader.ReadLines(sink, 100, out _);
        Assert.Equal(["a", "a", "b\n  b1"], sink.Texts);
    }

    private (LogFileReader Reader, CollectingSink Sink) Read(string text, MultilineConfig config)
    {
        var path = _dir.File($"{Guid.NewGuid():N}.log");
        File.WriteAllText(path, text.ReplaceLineEndings("\n"));
        var reader = new LogFileReader(path, FileIdentity.Of(path)!.Value, 0, 4096, null, new MultilineAssembler(config, 4096));
        var sink = new CollectingSink();
        reader.ReadLines(sink, 1000, out _);
        return (reader, sink);
    }
}
