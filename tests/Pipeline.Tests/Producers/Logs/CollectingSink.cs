using System.Text;
using Pipeline.Producers.Logs;

namespace Pipeline.Tests.Producers.Logs;

/// <summary>Takes what a <see cref="LogFileReader"/> emits the way the tailer does (records it as produced) and keeps it for the test.</summary>
internal sealed class CollectingSink : ILineSink
{
    public List<(string Text, long Offset, long AckOffset, LineFlags Flags)> Lines { get; } = [];

    public bool Paused { get; set; }

    public void Emit(LogFileReader reader, ReadOnlySpan<byte> line, long offset, long ackOffset, LineFlags flags)
    {
        Lines.Add((Encoding.UTF8.GetString(line), offset, ackOffset, flags));
        reader.TrackProduced(ackOffset);
    }

    public IEnumerable<string> Texts => Lines.Select(l => l.Text);
}
