using System.Text;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Filters;

namespace Pipeline.Producers.Logs;

/// <summary>
/// One <c>[[logs.inputs]]</c> as the tailer runs it: which files, how their lines become events, and
/// the filter chain. A reload that changes only the filters swaps <see cref="Chain"/> in place; any other
/// change replaces the input (its files are closed and reopened from the registry).
/// </summary>
internal sealed class LogInput
{
    public LogInput(LogInputConfig config, string host, FilterChain chain)
    {
        Config = config;
        Discovery = new LogFileDiscovery(config);
        Encoder = new LogEventEncoder(host, config.Fields, config.Tags, config.Json);
        Encoding = LineEncoding.For(config.Encoding);
        ScanInterval = Duration.Parse(config.ScanInterval);
        Signature = SignatureOf(config);
        Chain = chain;
    }

    public LogInputConfig Config { get; }
    public LogFileDiscovery Discovery { get; }
    public LogEventEncoder Encoder { get; }
    public LineEncoding Encoding { get; }
    public TimeSpan ScanInterval { get; }

    /// <summary>Everything but the filters: two inputs with the same signature read the same files the same way.</summary>
    public string Signature { get; }

    /// <summary>This input's filters; empty when none are configured, and then events skip filtering entirely.</summary>
    public FilterChain Chain { get; set; }

    /// <summary>True until the first discovery pass of this input: files found then start per <c>start_at</c>.</summary>
    public bool FirstScan { get; set; } = true;

    /// <summary>A new assembler per file: a pending event belongs to one file.</summary>
    public MultilineAssembler? CreateMultiline()
        => Config.Multiline.Enabled ? new MultilineAssembler(Config.Multiline, Config.MaxLineBytes) : null;

    internal static string SignatureOf(LogInputConfig c)
    {
        var b = new StringBuilder();
        void Add(string name, object value) => b.Append(name).Append('=').Append(value).Append('\u001f');
        Add("paths", string.Join('\u001e', c.Paths));
        Add("exclude", string.Join('\u001e', c.Exclude));
        Add("start_at", c.StartAt);
        Add("max_line_bytes", c.MaxLineBytes);
        Add("scan_interval", c.ScanInterval);
        foreach (var key in c.Fields.Keys.Order(StringComparer.Ordinal)) Add("fields." + key, c.Fields[key]);
        Add("tags", string.Join('\u001e', c.Tags));
        Add("encoding", c.Encoding);
        Add("json", c.Json);
        var m = c.Multiline;
        Add("multiline", $"{m.Pattern}\u001e{m.Negate}\u001e{m.Match}\u001e{m.MaxLines}\u001e{m.Timeout}");
        return b.ToString();
    }
}
