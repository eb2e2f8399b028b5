using System.Text.RegularExpressions;
using Pipeline.Plumbing.Config;

namespace Pipeline.Producers.Probes;

/// <summary>
/// <c>kmsg</c>: regex rules over kernel messages, like node-problem-detector's kernel monitor. Each run reads
/// what the kernel logged since the previous run; a match is a problem whose reason is the rule's name
/// (OOMKilling, TaskHung, ...). Use <c>success_threshold</c> to keep the condition up for a while after a match.
/// An unreadable /dev/kmsg (no CAP_SYSLOG, not mounted into the container) is unknown, saying so.
/// </summary>
public sealed class KmsgProbe : IProbe, IDisposable
{
    /// <summary>node-problem-detector's kernel-monitor.json rules, plus NIC link loss.</summary>
    public static readonly IReadOnlyDictionary<string, string> DefaultPatterns = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["OOMKilling"] = @"Killed process \d+ \(.+\)|Out of memory: Kill(ed)? process",
        ["TaskHung"] = @"task \S+:\w+ blocked for more than \w+ seconds\.",
        ["FilesystemIsReadOnly"] = @"Remounting filesystem read-only",
        ["KernelOops"] = @"BUG: unable to handle kernel|divide error: 0000",
        ["NICLinkDown"] = @"(?i)\bNIC Link is Down|\blink is not ready|\blink down\b",
    };

    private readonly (string Reason, Regex Pattern)[] _rules;
    private readonly KernelLogReader _reader;
    private string? _firstMatch;
    private string? _firstReason;
    private int _matches;

    public KmsgProbe(ProbeConfig config)
    {
        var patterns = config.Patterns.Count > 0 ? config.Patterns : DefaultPatterns;
        _rules = [.. patterns.Select(p => (p.Key, new Regex(p.Value, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1))))];
        _reader = new KernelLogReader(config.Target.Length > 0 ? config.Target : "/dev/kmsg");
    }

    public string Target => _reader.Path;

    public ValueTask<ProbeResult> RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            _reader.Open();
        }
        catch (IOException e)
        {
            return new(ProbeResult.Unknown(ProbeReasons.Unreadable,
                $"cannot read {Target}: {e.Message}; the agent needs root or CAP_SYSLOG, and in a container /dev/kmsg mounted from the host"));
        }
        _matches = 0;
        _firstMatch = _firstReason = null;
        int read;
        try
        {
            read = _reader.ReadNew(Match);
        }
        catch (IOException e)
        {
            return new(ProbeResult.Unknown(ProbeReasons.Unreadable, $"reading {Target} failed: {e.Message}"));
        }
        if (_matches == 0) return new(ProbeResult.Ok($"{read} new kernel message(s), none matching", 0));
        var more = _matches > 1 ? $" (and {_matches - 1} more)" : "";
        return new(ProbeResult.Problem(_firstReason!, $"{_firstReason}: {_firstMatch}{more}", _matches));
    }

    private void Match(string message)
    {
        foreach (var (reason, pattern) in _rules)
        {
            if (!pattern.IsMatch(message)) continue;
            if (_matches++ == 0)
            {
                _firstReason = reason;
                _firstMatch = message;
            }
            return;
        }
    }

    public void Dispose() => _reader.Dispose();
}
