using System.Globalization;

namespace Pipeline.Producers.Process;

/// <summary>What one kernel log line says about an OOM kill.</summary>
public readonly record struct OomKillLine(int Pid, string? Name, string? Cgroup, int? Uid, long? RssBytes);

/// <summary>
/// Parses the kernel's OOM killer lines. Two lines describe each kill, and either may come alone:
/// <code>
/// oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/t,task_memcg=/t,task=python3,pid=4242,uid=0
/// Memory cgroup out of memory: Killed process 4242 (python3) total-vm:1099320kB, anon-rss:1048576kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:2100kB oom_score_adj:0
/// Out of memory: Killed process 4242 (python3) total-vm:..., anon-rss:..., ...   (a machine-wide OOM)
/// </code>
/// Names may hold spaces, commas and parentheses, so they are cut at the field that follows them.
/// </summary>
public static class OomKillParser
{
    public static bool TryParse(string message, out OomKillLine line)
    {
        line = default;
        int summary = message.IndexOf("oom-kill:", StringComparison.Ordinal);
        if (summary >= 0) return TryParseSummary(message.AsSpan(summary + 9), out line);
        int killed = message.IndexOf("Killed process ", StringComparison.Ordinal);
        if (killed >= 0) return TryParseKilled(message.AsSpan(killed + 15), out line);
        return false;
    }

    private static bool TryParseSummary(ReadOnlySpan<char> s, out OomKillLine line)
    {
        line = default;
        int task = s.IndexOf(",task=", StringComparison.Ordinal);
        int pidAt = s.LastIndexOf(",pid=", StringComparison.Ordinal);
        if (task < 0 || pidAt < task) return false;
        var name = s[(task + 6)..pidAt].ToString();
        var afterPid = s[(pidAt + 5)..];
        int comma = afterPid.IndexOf(',');
        if (!int.TryParse(comma < 0 ? afterPid : afterPid[..comma], NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) return false;
        int? uid = null;
        if (comma >= 0)
        {
            var tail = afterPid[(comma + 1)..];
            if (tail.StartsWith("uid=", StringComparison.Ordinal) && int.TryParse(tail[4..], NumberStyles.None, CultureInfo.InvariantCulture, out int u)) uid = u;
        }
        string? cgroup = Value(s[..task], "task_memcg=");
        line = new OomKillLine(pid, name, cgroup, uid, null);
        return true;
    }

    private static bool TryParseKilled(ReadOnlySpan<char> s, out OomKillLine line)
    {
        line = default;
        int space = s.IndexOf(' ');
        if (space <= 0 || !int.TryParse(s[..space], NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) return false;
        var rest = s[(space + 1)..];
        string? name = null;
        if (rest.StartsWith("(", StringComparison.Ordinal))
        {
            int end = rest.IndexOf(") total-vm:", StringComparison.Ordinal);
            if (end < 0) end = rest.IndexOf(") score ", StringComparison.Ordinal);
            if (end < 0) end = rest.LastIndexOf(')');
            if (end > 0) name = rest[1..end].ToString();
        }
        long rss = 0;
        bool anyRss = false;
        foreach (var key in (ReadOnlySpan<string>)["anon-rss:", "file-rss:", "shmem-rss:"])
        {
            if (Kilobytes(rest, key) is { } kb) { rss += kb * 1024; anyRss = true; }
        }
        int? uid = null;
        int uidAt = rest.IndexOf("UID:", StringComparison.Ordinal);
        if (uidAt >= 0)
        {
            var digits = rest[(uidAt + 4)..];
            int end = 0;
            while (end < digits.Length && char.IsAsciiDigit(digits[end])) end++;
            if (int.TryParse(digits[..end], NumberStyles.None, CultureInfo.InvariantCulture, out int u)) uid = u;
        }
        line = new OomKillLine(pid, name, null, uid, anyRss ? rss : null);
        return true;
    }

    private static string? Value(ReadOnlySpan<char> s, string key)
    {
        int at = s.IndexOf(key, StringComparison.Ordinal);
        if (at < 0) return null;
        var rest = s[(at + key.Length)..];
        int comma = rest.IndexOf(',');
        return (comma < 0 ? rest : rest[..comma]).ToString();
    }

    private static long? Kilobytes(ReadOnlySpan<char> s, string key)
    {
        int at = s.IndexOf(key, StringComparison.Ordinal);
        if (at < 0) return null;
        var rest = s[(at + key.Length)..];
        int end = 0;
        while (end < rest.Length && char.IsAsciiDigit(rest[end])) end++;
        return long.TryParse(rest[..end], NumberStyles.None, CultureInfo.InvariantCulture, out long kb) ? kb : null;
    }
}
