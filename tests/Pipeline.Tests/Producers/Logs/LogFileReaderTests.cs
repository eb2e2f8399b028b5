using Pipeline.Producers.Logs;
using Pipeline.Testing;

namespace Pipeline.Tests.Producers.Logs;

/// <summary>The reader's bookkeeping of what Kafka acknowledged, driven by hand the way the tailer drives it.</summary>
public class LogFileReaderTests : IDisposable
{
    private readonly TempDirectory _dir = new("pipeline-reader");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void AcksOfLinesSentBeforeARewindDoNotAcknowledgeTheirResentCopies()
    {
        var path = _dir.File("app.log");
        File.WriteAllText(path, "a\nb\nc\n");
        using var reader = Open(path);
        var sink = new TrackingSink();
        Assert.Equal(3, reader.ReadLines(sink, 100, out _));

        // "a" timed out while "b" and "c" were still queued: the tailer rewinds and sends all three again.
        reader.OnDelivered(false);
        Assert.True(reader.DeliveryFailed);
        reader.RewindToAcked();
        Assert.Equal(3, reader.ReadLines(sink, 100, out _));

        // The reports of the first "b" and "c" come next (success, or failure): "a" is still not in Kafka.
        reader.OnDelivered(true);
        reader.OnDelivered(false);
        Assert.Equal(0, reader.AckedOffset);
        Assert.False(reader.DeliveryFailed, "a late report of a line already re-sent must not cause another rewind");

        // Then the re-sent copies are acknowledged.
        reader.OnDelivered(true);
        Assert.Equal(2, reader.AckedOffset);
        reader.OnDelivered(true);
        reader.OnDelivered(true);
        Assert.Equal(6, reader.AckedOffset);
    }

    [Fact]
    public void AnEmptyLineAfterALineInFlightIsPassedOnceThatLineIsAcknowledged()
    {
        var path = _dir.File("app.log");
        File.WriteAllText(path, "a\n\n");
        using var reader = Open(path);
        var sink = new TrackingSink();
        Assert.Equal(1, reader.ReadLines(sink, 100, out _));
        Assert.Equal(0, reader.AckedOffset);

        reader.OnDelivered(true);
        Assert.Equal(2, reader.AckedOffset);
        // Nothing new to read, but the empty line needs no delivery: a restart may resume after it.
        Assert.Equal(0, reader.ReadLines(sink, 100, out _));
        Assert.Equal(3, reader.AckedOffset);
    }

    [Fact]
    public void AFailedDeliveryHoldsTheOffsetEvenWhenLaterLinesSucceed()
    {
        var path = _dir.File("app.log");
        File.WriteAllText(path, "a\nb\n\n");
        using var reader = Open(path);
        var sink = new TrackingSink();
        Assert.Equal(2, reader.ReadLines(sink, 100, out _));
        reader.OnDelivered(false);
        reader.OnDelivered(true);
        Assert.Equal(0, reader.ReadLines(sink, 100, out _));
        Assert.True(reader.DeliveryFailed);
        Assert.Equal(0, reader.AckedOffset);
    }

    [Fact]
    public void ACopytruncateReplacesTheFingerprintOfTheOldContent()
    {
        var path = _dir.File("app.log");
        File.WriteAllText(path, string.Concat(Enumerable.Range(0, 100).Select(i => $"old line {i:D3} padding\n")));
        using var reader = Open(path);
        var sink = new TrackingSink();
        reader.ReadLines(sink, 1000, out _);
        Assert.Equal(LogFileReader.FingerprintLength, reader.FingerprintBytes);

        File.WriteAllText(path, "new-1\n");
        reader.ReadLines(sink, 1000, out bool truncated);
        Assert.True(truncated);
        using var handle = File.OpenHandle(path);
        Assert.Equal(6, reader.FingerprintBytes);
        Assert.Equal(LogFileReader.ComputeFingerprint(handle, 6), reader.Fingerprint);
    }

    private static LogFileReader Open(string path) => new(path, FileIdentity.Of(path)!.Value, 0, 1024);

    /// <summary>Does what the tailer does with each line: records it as produced.</summary>
    private sealed class TrackingSink : ILineSink
    {
        public void Emit(LogFileReader reader, ReadOnlySpan<byte> line, long offset, long ackOffset, LineFlags flags) => reader.TrackProduced(ackOffset);
    }
}
