using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Pipeline.Plumbing.Telemetry;

namespace Pipeline.Producers.Process;

/// <summary>
/// Reads the process table straight from <c>/proc</c>, shared by <c>pipeline ps</c> and the agent's
/// sampler. Each process is known by pid AND start time, so CPU deltas never mix a dead process with
/// the new one that got its pid. Races with exiting processes are normal and only counted.
/// </summary>
public sealed partial class ProcessCollector
{
    // Name, command line, user, executable and cgroup rarely change; re-read them when the name changes
    // (an exec) and otherwise every few samples, which halves the files read per sample.
    private const int MetadataRefreshEvery = 6;
    private const int RecentlyExitedKept = 512;

    private readonly ProcFileReader _reader;
    private readonly LabelRules _rules;
    private readonly UserNames _users;
    private readonly CgroupLabels _cgroups = new();
    private readonly Dictionary<int, ProcessRecord> _live = [];
    private readonly Dictionary<int, ProcessRecord> _recentlyExited = [];
    private readonly Queue<int> _recentlyExitedOrder = new();
    private readonly List<int> _pids = [];
    private readonly HashSet<int> _pidSet = [];
    private readonly List<int> _gone = [];
    private readonly ProcessSnapshot _snapshot = new();
    private readonly long _clockTicks;
    private readonly long _pageSize = Environment.SystemPageSize;
    private readonly Prometheus.Counter.Child _deniedStat, _deniedIo, _deniedFd, _deniedStatus;
    private long _bootTimeSeconds;
    private int _cpus = 1;
    private int _generation;
    private bool _baselineTaken;
    private long _lastTaskCount = -1;
    private long _lastPid = -1;

    private readonly ProcessDetail _detail;

    public ProcessCollector(string procRoot = "/proc", LabelRules? rules = null, UserNames? users = null, ProcessDetail detail = ProcessDetail.All)
    {
        _detail = detail;
        _reader = new ProcFileReader(procRoot);
        _rules = rules ?? LabelRules.None;
        _users = users ?? new UserNames();
        long tck = SysConf(ScClkTck);
        _clockTicks = tck > 0 ? tck : 100;
        _deniedStat = PipelineMetrics.ProcessDenied.WithLabels("stat");
        _deniedStatus = PipelineMetrics.ProcessDenied.WithLabels("status");
        _deniedIo = PipelineMetrics.ProcessDenied.WithLabels("io");
        _deniedFd = PipelineMetrics.ProcessDenied.WithLabels("fd");
        HidepidMode = ReadHidepid(_reader.Root);
    }

    public string ProcRoot => _reader.Root;

    /// <summary>The <c>hidepid</c>/<c>subset</c> option procfs is mounted with, or null: other users' processes may be invisible.</summary>
    public string? HidepidMode { get; }

    /// <summary>Reads every process: identity, state, CPU since the previous call, memory, I/O, labels.</summary>
    public ProcessSnapshot Sample()
    {
        var s = _snapshot;
        s.Processes.Clear();
        s.Started.Clear();
        s.Exited.Clear();
        s.Races = 0;
        s.Hidden = 0;
        s.Time = DateTimeOffset.UtcNow;
        s.Host = ReadHost();
        _generation++;
        TasksChanged();
        _reader.ListPids(_pids);
        foreach (int pid in _pids)
        {
            var record = ReadProcess(pid, s);
            if (record is not null) s.Processes.Add(record);
        }
        foreach (var (pid, record) in _live)
        {
            if (record.Generation != _generation) _gone.Add(pid);
        }
        RetireGone(s);
        _baselineTaken = true;
        PipelineMetrics.ProcessesSeen.Set(s.Processes.Count);
        return s;
    }

    /// <summary>
    /// The cheap check run between samples: lists <c>/proc</c> and reads only processes that are new.
    /// Fills <see cref="ProcessSnapshot.Started"/> and <see cref="ProcessSnapshot.Exited"/>; other lists are left empty.
    /// </summary>
    public ProcessSnapshot Scan()
    {
        var s = _snapshot;
        s.Processes.Clear();
        s.Started.Clear();
        s.Exited.Clear();
        s.Races = 0;
        s.Hidden = 0;
        s.Time = DateTimeOffset.UtcNow;
        if (!_baselineTaken) return Sample();
        // Listing /proc costs a dentry per process. When no task was created (the last pid handed out is
        // the same) and none ended (the task count is the same), nothing can have started or exited.
        if (!TasksChanged()) return s;
        // New processes' first CPU figure is their average since start, which needs the current uptime.
        if (_reader.Read(0, "uptime"u8) == ReadOutcome.Ok) s.Host = s.Host with { UptimeSeconds = ProcStatParser.ParseUptime(_reader.Data) };
        _reader.ListPids(_pids);
        _pidSet.Clear();
        foreach (int pid in _pids)
        {
            _pidSet.Add(pid);
            if (!_live.ContainsKey(pid)) ReadProcess(pid, s);
        }
        foreach (var (pid, _) in _live)
        {
            if (!_pidSet.Contains(pid)) _gone.Add(pid);
        }
        RetireGone(s);
        return s;
    }

    // "/proc/loadavg": "0.50 0.40 0.30 2/417 4242": runnable/total tasks, then the last pid handed out.
    private bool TasksChanged()
    {
        if (_reader.Read(0, "loadavg"u8, shortReadIsEnd: true) != ReadOutcome.Ok) return true;
        var data = _reader.Data;
        int slash = data.IndexOf((byte)'/');
        int space = data.TrimEnd((byte)'\n').LastIndexOf((byte)' ');
        if (slash < 0 || space < slash
            || !System.Buffers.Text.Utf8Parser.TryParse(data[(slash + 1)..], out long tasks, out _)
            || !System.Buffers.Text.Utf8Parser.TryParse(data[(space + 1)..], out long lastPid, out _))
            return true;
        bool changed = tasks != _lastTaskCount || lastPid != _lastPid;
        _lastTaskCount = tasks;
        _lastPid = lastPid;
        return changed;
    }

    /// <summary>The last known state of a live or recently exited process (to say who an OOM kill hit).</summary>
    public ProcessRecord? Find(int pid)
        => _live.TryGetValue(pid, out var live) ? live : _recentlyExited.GetValueOrDefault(pid);

    /// <summary>The distinct cgroup v2 paths of the processes last seen (where OOM counters are read).</summary>
    public void UnifiedCgroups(HashSet<string> into)
    {
        foreach (var record in _live.Values)
        {
            if (record.Cgroup.UnifiedPath is { } path) into.Add(path);
        }
    }

    private ProcessRecord? ReadProcess(int pid, ProcessSnapshot s)
    {
        var outcome = _reader.Read(pid, "stat"u8, shortReadIsEnd: true);
        if (outcome != ReadOutcome.Ok)
        {
            if (outcome == ReadOutcome.Gone) Race(s);
            else { s.Hidden++; _deniedStat.Inc(); }
            return null;
        }
        if (!ProcStatParser.TryParseStat(_reader.Data, out var stat)) return null;
        long readAt = Stopwatch.GetTimestamp();
        var name = _reader.Data.Slice(stat.NameStart, stat.NameLength);

        bool isNew = !_live.TryGetValue(pid, out var record) || record.StartTicks != (long)stat.StartTicks;
        if (isNew && record is not null)
        {
            // Same pid, different start time: the old process exited and the pid was reused.
            _live.Remove(pid);
            Exited(record, s);
        }
        if (isNew) record = new ProcessRecord { Pid = pid, StartTicks = (long)stat.StartTicks };
        var r = record!;

        bool refresh = isNew || !name.SequenceEqual(r.NameBytes) || ++r.MetadataAge >= MetadataRefreshEvery;
        if (refresh)
        {
            r.MetadataAge = 0;
            if (!name.SequenceEqual(r.NameBytes))
            {
                r.NameBytes = name.ToArray();
                r.Name = Encoding.UTF8.GetString(name);
            }
        }
        r.Ppid = stat.Ppid;
        r.State = stat.State;
        r.Threads = stat.Threads;
        r.Nice = stat.Nice;
        r.IsKernelThread = stat.IsKernelThread;
        r.VirtualBytes = (long)stat.VirtualBytes;
        r.RssBytes = stat.RssPages * _pageSize;
        r.MemoryPct = _snapshot.Host.MemoryTotalBytes > 0 ? 100.0 * r.RssBytes / _snapshot.Host.MemoryTotalBytes : 0;
        r.Start = DateTimeOffset.FromUnixTimeMilliseconds(_bootTimeSeconds * 1000 + (long)stat.StartTicks * 1000 / _clockTicks);

        ulong ticks = stat.UserTicks + stat.SystemTicks;
        double cpuSeconds;
        double elapsed;
        if (r.ReadAt != 0)
        {
            cpuSeconds = (double)(ticks >= r.CpuTicks ? ticks - r.CpuTicks : 0) / _clockTicks;
            elapsed = Stopwatch.GetElapsedTime(r.ReadAt, readAt).TotalSeconds;
        }
        else
        {
            // First sight: the average since the process started, as ps shows it.
            cpuSeconds = (double)ticks / _clockTicks;
            elapsed = _snapshot.Host.UptimeSeconds - (double)stat.StartTicks / _clockTicks;
        }
        r.CpuPct = elapsed > 0.001 ? Math.Round(100.0 * cpuSeconds / elapsed, 2) : 0;
        r.CpuTotalPct = Math.Round(r.CpuPct / _cpus, 2);
        r.CpuTicks = ticks;
        r.ReadAt = readAt;

        if (refresh && !ReadMetadata(r)) { Race(s); return null; }
        if (!ReadUsage(r)) { Race(s); return null; }

        r.Generation = _generation;
        if (isNew)
        {
            _live[pid] = r;
            if (_baselineTaken) s.Started.Add(r);
        }
        return r;
    }

    // Identity that rarely changes. False when the process vanished meanwhile.
    private bool ReadMetadata(ProcessRecord r)
    {
        int pid = r.Pid;
        ReadOutcome outcome;
        if ((_detail & ProcessDetail.Identity) != 0)
        {
            outcome = _reader.Read(pid, "status"u8, 16 * 1024, shortReadIsEnd: true);
            if (outcome == ReadOutcome.Ok)
            {
                int uid = ProcStatParser.ParseEffectiveUid(_reader.Data);
                if (uid != r.Uid || r.User is null)
                {
                    r.Uid = uid;
                    r.User = uid >= 0 ? _users.NameOf(uid) : null;
                }
            }
            else if (outcome == ReadOutcome.Gone && !_reader.Exists(pid)) return false;
            else if (outcome != ReadOutcome.Gone) _deniedStatus.Inc();

            if (r.IsKernelThread)
            {
                r.CommandLine = null;
                r.Args = null;
            }
            else
            {
                outcome = _reader.Read(pid, "cmdline"u8, shortReadIsEnd: true);
                if (outcome == ReadOutcome.Gone && !_reader.Exists(pid)) return false;
                SetCommandLine(r, outcome == ReadOutcome.Ok ? _reader.Data : default);
            }
        }
        // exe is unreadable for zombies and, without root, for other users' processes.
        if ((_detail & ProcessDetail.Executable) != 0 && !r.IsKernelThread && _reader.ReadLink(pid, "exe"u8, out var exe) == ReadOutcome.Ok) r.Executable = exe;
        if ((_detail & ProcessDetail.Cgroup) != 0)
        {
            if (_reader.Read(pid, "cgroup"u8, 64 * 1024, shortReadIsEnd: true) == ReadOutcome.Ok) r.Cgroup = _cgroups.Lookup(_reader.Data);
            r.Labels = _rules.LabelsFor(r);
        }
        return true;
    }

    private static void SetCommandLine(ProcessRecord r, ReadOnlySpan<byte> raw)
    {
        while (!raw.IsEmpty && raw[^1] == 0) raw = raw[..^1];
        if (raw.IsEmpty)
        {
            r.CommandLine = null;
            r.Args = null;
            return;
        }
        int count = raw.Count((byte)0) + 1;
        var args = new string[count];
        int i = 0;
        while (true)
        {
            int nul = raw.IndexOf((byte)0);
            args[i++] = Encoding.UTF8.GetString(nul < 0 ? raw : raw[..nul]);
            if (nul < 0) break;
            raw = raw[(nul + 1)..];
        }
        r.Args = args;
        r.CommandLine = string.Join(' ', args);
    }

    // Usage that changes every sample. False when the process vanished meanwhile.
    private bool ReadUsage(ProcessRecord r)
    {
        int pid = r.Pid;
        // A process that exited after its identity was read keeps the command line read then, but a zombie
        // has released its argv: show it as ps does, "[name] <defunct>", at once, not at the next identity read.
        if (r.IsZombie && r.CommandLine is not null) (r.CommandLine, r.Args) = (null, null);
        if ((_detail & ProcessDetail.Io) != 0)
        {
            var io = _reader.Read(pid, "io"u8, shortReadIsEnd: true);
            if (io == ReadOutcome.Gone && !_reader.Exists(pid)) return false;
            ReadIo(r, io);
        }
        if ((_detail & ProcessDetail.Fds) == 0) return true;
        var outcome = _reader.CountEntries(pid, "fd"u8, out int fds);
        if (outcome == ReadOutcome.Ok) r.FdCount = fds;
        else
        {
            r.FdCount = null;
            if (outcome == ReadOutcome.Gone && !_reader.Exists(pid)) return false;
            if (outcome == ReadOutcome.Denied) _deniedFd.Inc();
        }
        return true;
    }

    private void ReadIo(ProcessRecord r, ReadOutcome outcome)
    {
        if (outcome == ReadOutcome.Ok
            && ProcStatParser.TryParseKeyed(_reader.Data, "read_bytes:"u8, out long read)
            && ProcStatParser.TryParseKeyed(_reader.Data, "write_bytes:"u8, out long written))
        {
            r.ReadBytes = read;
            r.WriteBytes = written;
        }
        else
        {
            r.ReadBytes = null;
            r.WriteBytes = null;
            // A zombie has no io to report; for a live process this is another user's process without root.
            if (outcome == ReadOutcome.Denied) _deniedIo.Inc();
        }
    }

    private void RetireGone(ProcessSnapshot s)
    {
        foreach (int pid in _gone)
        {
            var record = _live[pid];
            _live.Remove(pid);
            Exited(record, s);
        }
        _gone.Clear();
    }

    private void Exited(ProcessRecord record, ProcessSnapshot s)
    {
        s.Exited.Add(record);
        if (_recentlyExited.Count >= RecentlyExitedKept && _recentlyExitedOrder.TryDequeue(out int oldest)) _recentlyExited.Remove(oldest);
        _recentlyExited[record.Pid] = record;
        _recentlyExitedOrder.Enqueue(record.Pid);
    }

    private static void Race(ProcessSnapshot s)
    {
        s.Races++;
        PipelineMetrics.ProcessRaces.Inc();
    }

    private HostTotals ReadHost()
    {
        if (_reader.Read(0, "stat"u8) == ReadOutcome.Ok)
        {
            ProcStatParser.ParseProcStat(_reader.Data, out int cpus, out long boot);
            _cpus = Math.Max(1, cpus);
            _bootTimeSeconds = boot;
        }
        double uptime = _reader.Read(0, "uptime"u8) == ReadOutcome.Ok ? ProcStatParser.ParseUptime(_reader.Data) : 0;
        long total = 0, available = 0;
        if (_reader.Read(0, "meminfo"u8) == ReadOutcome.Ok)
        {
            ProcStatParser.TryParseKeyed(_reader.Data, "MemTotal:"u8, out total);
            ProcStatParser.TryParseKeyed(_reader.Data, "MemAvailable:"u8, out available);
        }
        double l1 = 0, l5 = 0, l15 = 0;
        if (_reader.Read(0, "loadavg"u8) == ReadOutcome.Ok) ParseLoad(_reader.Data, out l1, out l5, out l15);
        return new HostTotals(_cpus, total * 1024, available * 1024, DateTimeOffset.FromUnixTimeSeconds(_bootTimeSeconds), uptime, l1, l5, l15);
    }

    private static void ParseLoad(ReadOnlySpan<byte> data, out double l1, out double l5, out double l15)
    {
        l1 = l5 = l15 = 0;
        System.Buffers.Text.Utf8Parser.TryParse(data, out l1, out int used);
        data = data[Math.Min(data.Length, used + 1)..];
        System.Buffers.Text.Utf8Parser.TryParse(data, out l5, out used);
        data = data[Math.Min(data.Length, used + 1)..];
        System.Buffers.Text.Utf8Parser.TryParse(data, out l15, out _);
    }

    /// <summary>Finds the mount options of procfs at <paramref name="root"/> in <c>/proc/self/mountinfo</c>.</summary>
    private static string? ReadHidepid(string root)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/mountinfo"))
            {
                // id parent major:minor root mountpoint options ... - fstype source superoptions
                var parts = line.Split(' ');
                if (parts.Length < 5 || parts[4] != root) continue;
                int dash = Array.IndexOf(parts, "-");
                if (dash < 0 || dash + 1 >= parts.Length || parts[dash + 1] != "proc") continue;
                var super = dash + 3 < parts.Length ? parts[dash + 3] : "";
                foreach (var option in super.Split(','))
                {
                    if (option.StartsWith("hidepid=", StringComparison.Ordinal) && option is not ("hidepid=0" or "hidepid=off")) return option;
                    if (option == "subset=pid") return option;
                }
            }
        }
        catch (IOException)
        {
        }
        return null;
    }

    private const int ScClkTck = 2;

    [LibraryImport("libc", EntryPoint = "sysconf")]
    private static partial long SysConf(int name);
}
