namespace Pipeline.Plumbing.Filters;

/// <summary>
/// One filter in a chain (<c>[[logs.inputs.filters]]</c> or <c>[[processors.filters]]</c>). Which keys
/// matter depends on <c>type</c>; see <see cref="BuiltInFilters"/>.
/// </summary>
public sealed class FilterConfig
{
    /// <summary>drop, keep, add_fields, rename, remove_fields, redact, regex, dissect, json, sample, level, or a custom plugin's type.</summary>
    public string Type { get; set; } = "";

    /// <summary>For <c>processors.filters</c>: which source topic's chain this belongs to (logs, process, probes). Default <c>logs</c>.</summary>
    public string Source { get; set; } = "logs";

    /// <summary>Expression: drop/keep decide by it; sample always keeps what it matches; other filters only apply where it matches. Default: every event.</summary>
    public string Where { get; set; } = "";

    /// <summary>The field a filter reads (regex, dissect, json, level, redact). Default <c>message</c>.</summary>
    public string Field { get; set; } = "message";

    /// <summary>regex: a .NET pattern with named groups; dissect: a pattern such as <c>%{ts} %{level} %{msg}</c>.</summary>
    public string Pattern { get; set; } = "";

    /// <summary>Where extracted fields go (regex, dissect, json). Default: the top level.</summary>
    public string Target { get; set; } = "";

    /// <summary>add_fields: path = value; rename: from = to.</summary>
    public Dictionary<string, string> Fields { get; set; } = [];

    /// <summary>remove_fields: paths to remove; redact: extra regexes to mask.</summary>
    public List<string> Names { get; set; } = [];

    /// <summary>sample: keep 1 event in N. Default 10.</summary>
    public int Every { get; set; } = 10;

    /// <summary>What to do with an event this filter throws on: <c>pass</c> (default, send it on unfiltered) or <c>deadletter</c>.</summary>
    public string OnError { get; set; } = "pass";
}
