using System.Text;
using Microsoft.Extensions.Logging;

namespace Pipeline.Producers.Process;

/// <summary>
/// Watches for OOM kills through every source the machine offers: <c>/dev/kmsg</c> (names the
/// victim; needs root or <c>kernel.dmesg_restrict=0</c>), cgroup v2 <c>memory.events</c> of the
/// cgroups processes run in, and <c>/proc/vmstat</c>, which works everywhere. Which sources are in
/// use is logged once. <see cref="OomDeduplicator"/> makes one kill seen twice one event.
/// </summary>
public sealed class OomWatcher : IDisposable
{
    private static readonly TimeSpan RecheckMissingEvery = TimeSpan.FromMinutes(1);

    private readonly KernelLogReader? _kmsg;
    private readonly ProcFileReader _proc;
    private readonly ProcFileReader? _cgroupFs;
    private readonly OomDeduplicator _dedup = new();
    private readonly List<KernelRecord> _records = [];
    private readonly Dictionary<string, CgroupFile> _files = new(StringComparer.Ordinal);

    public OomWatcher(ILogger logger, string procRoot = "/proc", string kmsgPath = "/dev/kmsg", string? cgroup2Root = null)
    {
        _proc = new ProcFileReader(procRoot);
        _kmsg = KernelLogReader.Open(kmsgPath, out var kmsgError, "oom-kill:", "Killed process");
        cgroup2Root ??= FindCgroup2Mount();
        if (cgroup2Root is not null) _cgroupFs = new ProcFileReader(cgroup2Root);
        bool vmstat = _proc.Read(0, "vmstat"u8) == ReadOutcome.Ok;

        var sources = new List<string>();
        if (_kmsg is not null) sources.Add(kmsgPath);
        if (_cgroupFs is not null) sources.Add($"cgroup v2 memory.events under {cgroup2Root}");
        if (vmstat) sources.Add($"{procRoot}/vmstat");
        Sources = string.Join(", ", sources);
        if (_kmsg is null)
            logger.LogInformation("OOM kills: {Kmsg} is not readable ({Error}); using {Sources}, which do not always name the killed process", kmsgPath, kmsgError, Sources);
        else
            logger.LogInformation("OOM kills: reading {Sources}", Sources);
    }

    /// <summary>The sources in use, for the log and tests.</summary>
    public string Sources { get; }

    public bool ReadsKernelLog => _kmsg is not null;

    /// <summary>
    /// Reads every source once and adds the kills that are ready to <paramref name="into"/>.
    /// <paramref name="cgroups"/> are the cgroup v2 paths processes run in now.
    /// </summary>
    public void Poll(IReadOnlyCollection<string> cgroups, List<OomKill> into)
    {
        var now = DateTimeOffset.UtcNow;
        if (_kmsg is not null)
        {
            _records.Clear();
            _kmsg.ReadNew(_records);
            if (_records.Count > 0)
            {
                double uptime = _proc.Read(0, "uptime"u8) == ReadOutcome.Ok ? ProcStatParser.ParseUptime(_proc.Data) : 0;
                foreach (var record in _records)
                {
                    // Kernel timestamps count from boot: place them on the wall clock through the current uptime.
                    var at = uptime > 0 ? now - TimeSpan.FromSeconds(Math.Max(0, uptime - record.MicrosecondsSinceBoot / 1e6)) : now;
                    _dedup.OnKernelMessage(record.Message, at);
                }
            }
        }
        if (_cgroupFs is not null)
        {
            foreach (var cgroup in cgroups)
            {
                if (ReadCgroupCounter(cgroup, now) is { } count) _dedup.OnCgroupCounter(cgroup, count, now);
            }
        }
        if (_proc.Read(0, "vmstat"u8) == ReadOutcome.Ok && ProcStatParser.TryParseKeyed(_proc.Data, "oom_kill "u8, out long kills))
            _dedup.OnVmstatCounter(kills, now);
        _dedup.Release(now, into);
    }

    // memory.events.local counts kills in this cgroup only (kernel 5.2+); memory.events also counts
    // those of descendants, which would count one kill once per ancestor.
    private long? ReadCgroupCounter(string cgroup, DateTimeOffset now)
    {
        if (!_files.TryGetValue(cgroup, out var file))
        {
            var relative = cgroup.TrimStart('/');
            var prefix = relative.Length == 0 ? "" : relative + "/";
            _files[cgroup] = file = new CgroupFile(Encoding.UTF8.GetBytes(prefix + "memory.events.local"), Encoding.UTF8.GetBytes(prefix + "memory.events"));
        }
        if (file.MissingSince is { } since && now - since < RecheckMissingEvery) return null;
        foreach (var path in (ReadOnlySpan<byte[]>)[file.Local, file.Hierarchical])
        {
            if (_cgroupFs!.Read(0, path) == ReadOutcome.Ok && ProcStatParser.TryParseKeyed(_cgroupFs.Data, "oom_kill "u8, out long count))
            {
                file.MissingSince = null;
                return count;
            }
        }
        file.MissingSince = now; // no memory controller here (or the cgroup is gone)
        return null;
    }

    /// <summary>Where the cgroup v2 hierarchy is mounted (<c>/sys/fs/cgroup</c>, or <c>/sys/fs/cgroup/unified</c> on hybrid hosts).</summary>
    public static string? FindCgroup2Mount()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/mountinfo"))
            {
                var parts = line.Split(' ');
                int dash = Array.IndexOf(parts, "-");
                if (dash > 4 && dash + 1 < parts.Length && parts[dash + 1] == "cgroup2") return parts[4];
            }
        }
        catch (IOException)
        {
        }
        return null;
    }

    public void Dispose() => _kmsg?.Dispose();

    private sealed class CgroupFile(byte[] local, byte[] hierarchical)
    {
        public byte[] Local { get; } = local;
        public byte[] Hierarchical { get; } = hierarchical;
        public DateTimeOffset? MissingSince { get; set; }
    }
}
