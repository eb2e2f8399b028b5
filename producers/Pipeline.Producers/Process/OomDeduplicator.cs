using System.Globalization;

namespace Pipeline.Producers.Process;

/// <summary>
/// Merges what the three OOM sources report into one event per kill. The kernel log names the victim;
/// a cgroup's <c>memory.events</c> <c>oom_kill</c> counter only says "one more in this cgroup"; the
/// <c>/proc/vmstat</c> counter only says "one more somewhere". A counter step is matched against kills
/// already known (same cgroup for memory.events, any for vmstat); one that matches nothing is a kill
/// the log did not show, and is published after <see cref="Grace"/> in case the log line is just late.
/// </summary>
public sealed class OomDeduplicator
{
    public const string Kmsg = "kmsg";
    public const string MemoryEvents = "memory.events";
    public const string Vmstat = "vmstat";

    /// <summary>How long a kill seen only by a counter waits for its kernel log line.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(3);

    /// <summary>How long a kill is remembered for matching later sightings of it.</summary>
    public static readonly TimeSpan Memory = TimeSpan.FromSeconds(120);

    private readonly List<Entry> _recent = [];
    private readonly Dictionary<string, long> _cgroupCounters = new(StringComparer.Ordinal);
    private long _vmstat = -1;

    /// <summary>A kernel log message (anything; lines that are not about OOM kills are ignored).</summary>
    public void OnKernelMessage(string message, DateTimeOffset at)
    {
        if (!OomKillParser.TryParse(message, out var line)) return;
        // The second line of a kill already seen: fill in what it adds.
        foreach (var e in _recent)
        {
            if (e.Kill.Pid == line.Pid && (at - e.Kill.At).Duration() < Memory)
            {
                e.Kill = e.Kill with
                {
                    Name = e.Kill.Name ?? line.Name,
                    Cgroup = e.Kill.Cgroup ?? line.Cgroup,
                    Uid = e.Kill.Uid ?? line.Uid,
                    RssBytes = e.Kill.RssBytes ?? line.RssBytes,
                };
                return;
            }
        }
        // A kill a counter reported first, still waiting: this line names its victim.
        foreach (var e in _recent)
        {
            if (e.Published || e.Kill.Pid is not null) continue;
            bool sameCgroup = e.Kill.Cgroup is null || line.Cgroup is null || e.Kill.Cgroup == line.Cgroup;
            if (!sameCgroup) continue;
            e.Kill = e.Kill with
            {
                Pid = line.Pid,
                Name = line.Name,
                Cgroup = e.Kill.Cgroup ?? line.Cgroup,
                Uid = line.Uid,
                RssBytes = line.RssBytes,
                Key = KmsgKey(line.Pid, at),
                Sources = [Kmsg, .. e.Kill.Sources],
                Source = Kmsg,
            };
            e.Ready = true;
            return;
        }
        _recent.Add(new Entry
        {
            Kill = new OomKill
            {
                Source = Kmsg, Sources = [Kmsg], At = at, Key = KmsgKey(line.Pid, at),
                Pid = line.Pid, Name = line.Name, Cgroup = line.Cgroup, Uid = line.Uid, RssBytes = line.RssBytes,
            },
            Ready = true,
        });
    }

    /// <summary>The <c>oom_kill</c> count of a cgroup's <c>memory.events</c>. The first reading of a cgroup is its baseline.</summary>
    public void OnCgroupCounter(string cgroup, long count, DateTimeOffset now)
    {
        if (!_cgroupCounters.TryGetValue(cgroup, out long previous) || count < previous)
        {
            _cgroupCounters[cgroup] = count; // new, or recreated under the same path
            return;
        }
        _cgroupCounters[cgroup] = count;
        for (long n = previous + 1; n <= count; n++)
        {
            var match = Find(e => !e.ByCgroup && e.Kill.Cgroup == cgroup)
                ?? Find(e => !e.ByCgroup && e.Kill.Cgroup is null && e.Kill.Source == Vmstat);
            if (match is not null)
            {
                match.ByCgroup = true;
                match.Kill = match.Kill with { Cgroup = cgroup, Sources = Add(match.Kill.Sources, MemoryEvents) };
                continue;
            }
            _recent.Add(new Entry
            {
                Kill = new OomKill
                {
                    Source = MemoryEvents, Sources = [MemoryEvents], At = now,
                    Key = $"cgroup:{cgroup}:{n.ToString(CultureInfo.InvariantCulture)}", Cgroup = cgroup,
                },
                ByCgroup = true,
            });
        }
    }

    /// <summary>The machine-wide <c>oom_kill</c> count from <c>/proc/vmstat</c>. The first reading is the baseline.</summary>
    public void OnVmstatCounter(long count, DateTimeOffset now)
    {
        long previous = _vmstat;
        _vmstat = count;
        if (previous < 0 || count <= previous) return;
        for (long n = previous + 1; n <= count; n++)
        {
            var match = Find(e => !e.ByVmstat);
            if (match is not null)
            {
                match.ByVmstat = true;
                match.Kill = match.Kill with { Sources = Add(match.Kill.Sources, Vmstat) };
                continue;
            }
            _recent.Add(new Entry
            {
                Kill = new OomKill { Source = Vmstat, Sources = [Vmstat], At = now, Key = $"vmstat:{n.ToString(CultureInfo.InvariantCulture)}" },
                ByVmstat = true,
            });
        }
    }

    /// <summary>Moves the kills that are ready to publish into <paramref name="into"/>, each once.</summary>
    public void Release(DateTimeOffset now, List<OomKill> into)
    {
        foreach (var e in _recent)
        {
            if (e.Published) continue;
            if (e.Ready || now - e.Kill.At >= Grace)
            {
                e.Published = true;
                into.Add(e.Kill);
            }
        }
        _recent.RemoveAll(e => e.Published && now - e.Kill.At > Memory);
    }

    private static string KmsgKey(int pid, DateTimeOffset at) => $"kmsg:{pid.ToString(CultureInfo.InvariantCulture)}:{at.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}";

    private static IReadOnlyList<string> Add(IReadOnlyList<string> sources, string source)
        => sources.Contains(source) ? sources : [.. sources, source];

    private Entry? Find(Func<Entry, bool> predicate)
    {
        foreach (var e in _recent)
        {
            if (predicate(e)) return e;
        }
        return null;
    }

    private sealed class Entry
    {
        public required OomKill Kill { get; set; }
        public bool Ready { get; set; }
        public bool Published { get; set; }
        public bool ByCgroup { get; set; }
        public bool ByVmstat { get; set; }
    }
}
