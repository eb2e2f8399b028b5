namespace Pipeline.Producers;

/// <summary>
/// A file the agent persists (the log registry, the process spool) was written by a newer agent, in a
/// format this build does not know. Refusing is the only safe answer: reading it as the old format could
/// skip lines or re-send them, and moving it aside would re-ship every file from <c>start_at</c>.
/// </summary>
public sealed class NewerStateFormatException(string path, string format, int found, int supported)
    : IOException($"{path} is a {format} of format version {found}, written by a newer pipeline; this pipeline reads versions up to {supported}. Run the newer pipeline again, or move the file aside to start over.")
{
    public string Path { get; } = path;
    public int Found { get; } = found;
    public int Supported { get; } = supported;
}
