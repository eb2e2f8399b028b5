using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Pipeline.Plumbing.Expressions;

namespace Pipeline.Plumbing.Filters;

// The built-in plugins. Each is small and does one thing; they share the FilterEvent path helpers.

/// <summary><c>drop</c>: drops the events <c>where</c> matches.</summary>
public sealed class DropFilter(Expression where) : IEventFilter
{
    public string Name => "drop";
    public bool Apply(FilterEvent e) => !where.Matches(e);
}

/// <summary><c>keep</c>: keeps only the events <c>where</c> matches.</summary>
public sealed class KeepFilter(Expression where) : IEventFilter
{
    public string Name => "keep";
    public bool Apply(FilterEvent e) => where.Matches(e);
}

/// <summary><c>add_fields</c>: sets each <c>fields</c> path to its value.</summary>
public sealed class AddFieldsFilter(IReadOnlyDictionary<string, string> fields) : IEventFilter
{
    public string Name => "add_fields";
    public bool Apply(FilterEvent e)
    {
        foreach (var (path, value) in fields) e.Set(path, JsonValue.Create(value));
        return true;
    }
}

/// <summary><c>rename</c>: moves each <c>fields</c> key (from) to its value (to).</summary>
public sealed class RenameFilter(IReadOnlyDictionary<string, string> moves) : IEventFilter
{
    public string Name => "rename";
    public bool Apply(FilterEvent e)
    {
        foreach (var (from, to) in moves)
        {
            var value = e.Remove(from);
            if (value is not null) e.Set(to, value);
        }
        return true;
    }
}

/// <summary><c>remove_fields</c>: removes each of <c>names</c>.</summary>
public sealed class RemoveFieldsFilter(IReadOnlyList<string> paths) : IEventFilter
{
    public string Name => "remove_fields";
    public bool Apply(FilterEvent e)
    {
        foreach (var path in paths) e.Remove(path);
        return true;
    }
}

/// <summary>
/// <c>redact</c>: masks secrets in <c>field</c>. The built-in set covers the usual leaks (passwords and
/// tokens in key=value form, bearer tokens, AWS access keys, JWTs, card numbers that pass the Luhn
/// check); <c>names</c> adds patterns of your own. The key is kept so the line still says what was there.
/// </summary>
public sealed partial class RedactFilter : IEventFilter
{
    public const string Mask = "[REDACTED]";
    private readonly string _field;
    private readonly Regex[] _extra;

    public RedactFilter(string field, IEnumerable<string> extraPatterns)
    {
        _field = field;
        _extra = extraPatterns.Select(p => new Regex(p, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50))).ToArray();
    }

    public string Name => "redact";

    // The value may not be "Bearer ...": that one is masked by BearerToken, which keeps the scheme word.
    [GeneratedRegex(@"(?i)\b(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|authorization)(\s*[=:]\s*|""\s*:\s*"")(?!bearer\s)([^\s,;&""']+)", RegexOptions.CultureInvariant)]
    private static partial Regex KeyValueSecret();

    [GeneratedRegex(@"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]+=*", RegexOptions.CultureInvariant)]
    private static partial Regex BearerToken();

    [GeneratedRegex(@"\b(AKIA|ASIA)[0-9A-Z]{16}\b", RegexOptions.CultureInvariant)]
    private static partial Regex AwsAccessKey();

    [GeneratedRegex(@"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\b", RegexOptions.CultureInvariant)]
    private static partial Regex Jwt();

    // Digits with single spaces or dashes between them, never after the last: the text around keeps its spacing.
    [GeneratedRegex(@"\b\d(?:[ -]?\d){12,18}\b", RegexOptions.CultureInvariant)]
    private static partial Regex CardNumber();

    public bool Apply(FilterEvent e)
    {
        var text = e.GetString(_field);
        if (text is null) return true;
        var redacted = Redact(text);
        if (!ReferenceEquals(redacted, text)) e.Set(_field, JsonValue.Create(redacted));
        return true;
    }

    // Every built-in pattern but the card number needs one of these words: most lines have none, and one
    // vectorised search for all of them is cheaper than running the four patterns that would find nothing.
    private static readonly System.Buffers.SearchValues<string> SecretWords = System.Buffers.SearchValues.Create(
        ["password", "passwd", "pwd", "secret", "token", "api_key", "api-key", "apikey", "access_key", "access-key", "accesskey", "authorization", "bearer", "AKIA", "ASIA", "eyJ"],
        StringComparison.OrdinalIgnoreCase);

    public string Redact(string text)
    {
        var result = text;
        if (text.AsSpan().IndexOfAny(SecretWords) >= 0)
        {
            // Bearer first: "Authorization: Bearer abc" must lose the token, not the word "Bearer".
            result = BearerToken().Replace(result, "Bearer " + Mask);
            result = KeyValueSecret().Replace(result, m => m.Groups[1].Value + m.Groups[2].Value + Mask);
            result = AwsAccessKey().Replace(result, Mask);
            result = Jwt().Replace(result, Mask);
        }
        // Long digit runs are also order ids and epoch-millisecond timestamps: mask only what passes Luhn.
        result = CardNumber().Replace(result, m => PassesLuhn(m.ValueSpan) ? Mask : m.Value);
        foreach (var extra in _extra) result = extra.Replace(result, Mask);
        return result == text ? text : result;
    }

    internal static bool PassesLuhn(ReadOnlySpan<char> candidate)
    {
        int sum = 0, digits = 0;
        for (int i = candidate.Length - 1; i >= 0; i--)
        {
            char c = candidate[i];
            if (!char.IsAsciiDigit(c)) continue;
            int d = c - '0';
            if ((digits & 1) == 1)
            {
                d *= 2;
                if (d > 9) d -= 9;
            }
            sum += d;
            digits++;
        }
        return digits is >= 13 and <= 19 && sum % 10 == 0;
    }
}

/// <summary><c>regex</c>: named groups of <c>pattern</c> matched against <c>field</c> become fields (under <c>target</c>).</summary>
public sealed class RegexFilter(string field, Regex pattern, string target) : IEventFilter
{
    // Named groups and the paths they are written to, worked out once rather than per event.
    private readonly (string Group, string Path)[] _groups = Array.ConvertAll(
        Array.FindAll(pattern.GetGroupNames(), n => !char.IsAsciiDigit(n[0])), n => (n, Join(target, n)));

    public string Name => "regex";
    public bool Apply(FilterEvent e)
    {
        var text = e.GetString(field);
        if (text is null) return true;
        var m = pattern.Match(text);
        if (!m.Success) return true;
        foreach (var (group, path) in _groups)
        {
            var g = m.Groups[group];
            if (g.Success) e.Set(path, JsonValue.Create(g.Value));
        }
        return true;
    }

    internal static string Join(string target, string name) => target.Length == 0 ? name : $"{target}.{name}";
}

/// <summary>
/// <c>dissect</c>: splits <c>field</c> by the literal text between <c>%{name}</c> keys, like Elastic's
/// dissect: no regex, so it is fast and predictable. <c>%{}</c> or <c>%{?name}</c> skips a part.
/// </summary>
public sealed class DissectFilter : IEventFilter
{
    private readonly string _field;
    private readonly string _target;
    private readonly List<(string Key, string Delimiter)> _parts = [];
    private string[] _paths = [];
    private readonly string _prefix;

    public DissectFilter(string field, string pattern, string target)
    {
        _field = field;
        _target = target;
        int first = pattern.IndexOf("%{", StringComparison.Ordinal);
        if (first < 0) throw new ArgumentException($"dissect pattern \"{pattern}\" has no %{{key}}");
        _prefix = pattern[..first];
        int pos = first;
        while (pos >= 0 && pos < pattern.Length)
        {
            int close = pattern.IndexOf('}', pos);
            if (close < 0) throw new ArgumentException($"dissect pattern \"{pattern}\": '%{{' at {pos} is not closed");
            var key = pattern[(pos + 2)..close];
            int next = pattern.IndexOf("%{", close, StringComparison.Ordinal);
            var delimiter = next < 0 ? pattern[(close + 1)..] : pattern[(close + 1)..next];
            if (next >= 0 && delimiter.Length == 0) throw new ArgumentException($"dissect pattern \"{pattern}\": two keys with nothing between them");
            _parts.Add((key, delimiter));
            pos = next;
        }
        // Where each key goes, joined once rather than per event; null for skipped parts.
        _paths = _parts.ConvertAll(p => p.Key.Length > 0 && p.Key[0] != '?' ? RegexFilter.Join(_target, p.Key) : null!).ToArray();
    }

    public string Name => "dissect";

    public bool Apply(FilterEvent e)
    {
        var text = e.GetString(_field);
        if (text is null || !text.StartsWith(_prefix, StringComparison.Ordinal)) return true;
        int pos = _prefix.Length;
        // Find every part first: a line that does not fit the whole pattern is left as it is.
        Span<Range> ranges = _parts.Count <= 64 ? stackalloc Range[_parts.Count] : new Range[_parts.Count];
        for (int i = 0; i < _parts.Count; i++)
        {
            var delimiter = _parts[i].Delimiter;
            int end;
            if (delimiter.Length == 0) end = text.Length; // last key takes the rest
            else
            {
                end = text.IndexOf(delimiter, pos, StringComparison.Ordinal);
                if (end < 0) return true;
            }
            ranges[i] = pos..end;
            pos = end + delimiter.Length;
        }
        for (int i = 0; i < ranges.Length; i++)
        {
            if (_paths[i] is { } path) e.Set(path, JsonValue.Create(text[ranges[i]]));
        }
        return true;
    }
}

/// <summary>
/// <c>json</c>: parses <c>field</c> as JSON and merges its members (under <c>target</c>); on a parse error
/// the raw text stays and <c>log.flags</c> gets <c>json_error</c>. Merged into the top level, a member
/// named like a field the pipeline relies on (<c>@timestamp</c>, <c>event</c>, <c>host</c>, <c>log</c>)
/// goes under <c>json.</c> instead, so an application's own "host" cannot break the event.
/// </summary>
public sealed class JsonFieldFilter(string field, string target) : IEventFilter
{
    private static readonly string[] Reserved = ["@timestamp", "event", "host", "log"];

    public string Name => "json";
    public bool Apply(FilterEvent e)
    {
        var text = e.GetString(field);
        if (text is null) return true;
        JsonNode? parsed;
        try
        {
            parsed = JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            AddFlag(e, "json_error");
            return true;
        }
        if (parsed is not JsonObject members) return true;
        var all = new KeyValuePair<string, JsonNode?>[members.Count];
        ((ICollection<KeyValuePair<string, JsonNode?>>)members).CopyTo(all, 0);
        // Detach the members from the parsed object before they get their new parents.
        members.Clear();
        foreach (var (key, value) in all)
        {
            var path = target.Length == 0 && Array.IndexOf(Reserved, key) >= 0 ? "json." + key : RegexFilter.Join(target, key);
            e.Set(path, value);
        }
        return true;
    }

    private static void AddFlag(FilterEvent e, string flag)
    {
        if (e.Root["log"] is not JsonObject log)
        {
            log = new JsonObject();
            e.Root["log"] = log;
        }
        if (log["flags"] is not JsonArray flags)
        {
            flags = [];
            log["flags"] = flags;
        }
        flags.Add(flag);
    }
}

/// <summary><c>sample</c>: keeps 1 event in <c>every</c>, but always keeps what <c>where</c> matches (errors, say).</summary>
public sealed class SampleFilter(int every, Expression? alwaysKeep) : IEventFilter
{
    private long _seen;
    public string Name => "sample";
    public bool Apply(FilterEvent e)
    {
        if (alwaysKeep is not null && alwaysKeep.Matches(e)) return true;
        return Interlocked.Increment(ref _seen) % every == 1 % every;
    }
}

/// <summary><c>level</c>: normalises <c>field</c> (default <c>log.level</c>) to trace/debug/info/warn/error/fatal.</summary>
public sealed class LevelFilter(string field) : IEventFilter
{
    public string Name => "level";
    public bool Apply(FilterEvent e)
    {
        var value = e.GetString(field);
        if (value is null) return true;
        var normal = Normalise(value);
        if (normal is not null && normal != value) e.Set(field, JsonValue.Create(normal));
        return true;
    }

    public static string? Normalise(string level) => level.Trim().ToLowerInvariant() switch
    {
        "trace" or "trc" or "finest" or "verbose" => "trace",
        "debug" or "dbg" or "fine" => "debug",
        "info" or "inf" or "information" or "notice" => "info",
        "warn" or "warning" or "wrn" => "warn",
        "error" or "err" or "eror" => "error",
        "fatal" or "crit" or "critical" or "panic" or "emerg" or "alert" => "fatal",
        _ => null,
    };
}

/// <summary>Applies another filter only to the events <c>where</c> matches.</summary>
public sealed class ConditionalFilter(Expression where, IEventFilter inner) : IEventFilter
{
    public string Name => inner.Name;
    public bool Apply(FilterEvent e) => !where.Matches(e) || inner.Apply(e);
}
