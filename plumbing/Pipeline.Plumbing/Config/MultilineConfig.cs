using Tomlyn.Serialization;

namespace Pipeline.Plumbing.Config;

/// <summary>
/// Joins several lines into one event (<c>[logs.inputs.multiline]</c>), such as a stack trace and the
/// line that started it. Off unless <c>pattern</c> is set. The semantics are Filebeat's, so existing
/// Filebeat settings carry over unchanged.
/// </summary>
public sealed class MultilineConfig
{
    /// <summary>.NET regular expression tested against each line. Default empty: multiline is off.</summary>
    public string Pattern { get; set; } = "";

    /// <summary>Invert the match: the lines that do NOT match <c>pattern</c> are the ones joined. Default false.</summary>
    public bool Negate { get; set; }

    /// <summary>
    /// <c>"after"</c> (default): a matching line is appended to the event before it (continuation lines
    /// such as <c>^\s</c>). <c>"before"</c>: a matching line continues into the next one, and the first line
    /// that does not match ends the event (lines ending in <c>\</c>).
    /// </summary>
    public string Match { get; set; } = "after";

    /// <summary>Most lines in one event; later lines of the same event are dropped and the event is flagged <c>truncated</c>. Default 500.</summary>
    public int MaxLines { get; set; } = 500;

    /// <summary>An event still waiting for more lines is sent after this long without a new line. Default 5s.</summary>
    public string Timeout { get; set; } = "5s";

    /// <summary>True when <c>pattern</c> is set.</summary>
    [TomlIgnore]
    public bool Enabled => Pattern.Length > 0;
}
