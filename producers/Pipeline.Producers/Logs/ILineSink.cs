namespace Pipeline.Producers.Logs;

/// <summary>Receives the lines (or multiline events) a <see cref="LogFileReader"/> finds.</summary>
internal interface ILineSink
{
    /// <summary>One line (UTF-8, without its newline). <paramref name="ackOffset"/> is where reading may resume once it is delivered.</summary>
    void Emit(LogFileReader reader, ReadOnlySpan<byte> line, long offset, long ackOffset, LineFlags flags);

    /// <summary>True while the sink takes no more lines (too much is waiting for Kafka): the reader stops and the file keeps the rest.</summary>
    bool Paused => false;
}
