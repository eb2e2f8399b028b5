namespace Pipeline.Producers.Process;

/// <summary>
/// One live process as the collector last read it. The collector keeps one record per process and
/// updates it in place on every sample, so values are valid until the next sample.
/// </summary>
public sealed class ProcessRecord
{
    public int Pid { get; internal set; }
    public int Ppid { get; internal set; }

    /// <summary><c>comm</c>: at most 15 bytes, may hold spaces and parentheses.</summary>
    public string Name { get; internal set; } = "";
    public string? Executable { get; internal set; }

    /// <summary>Arguments joined by spaces; null for kernel threads and zombies, which have none.</summary>
    public string? CommandLine { get; internal set; }
    public string[]? Args { get; internal set; }

    /// <summary>Effective uid, or -1 when it could not be read.</summary>
    public int Uid { get; internal set; } = -1;
    public string? User { get; internal set; }

    /// <summary>State letter from <c>/proc/PID/stat</c>: R running, S sleeping, D disk wait, Z zombie, T stopped, I idle kernel thread, ...</summary>
    public char State { get; internal set; }

    /// <summary>Start time in clock ticks since boot: with the pid, it identifies the process (pids are reused).</summary>
    public long StartTicks { get; internal set; }
    public DateTimeOffset Start { get; internal set; }
    public int Threads { get; internal set; }
    public int Nice { get; internal set; }

    /// <summary>CPU since the previous sample (or, on the first, since the process started), in percent of one core, like <c>top</c>.</summary>
    public double CpuPct { get; internal set; }

    /// <summary><see cref="CpuPct"/> divided by the number of cores: percent of the whole machine.</summary>
    public double CpuTotalPct { get; internal set; }
    public long RssBytes { get; internal set; }
    public long VirtualBytes { get; internal set; }
    public double MemoryPct { get; internal set; }

    /// <summary>From <c>/proc/PID/io</c>; null when not permitted (another user's process without root).</summary>
    public long? ReadBytes { get; internal set; }
    public long? WriteBytes { get; internal set; }

    /// <summary>Open file descriptors; null when not permitted.</summary>
    public int? FdCount { get; internal set; }

    public CgroupInfo Cgroup { get; internal set; } = CgroupInfo.Root;

    /// <summary><c>cgroup_path</c>, <c>systemd_unit</c> and the labels <c>[[process.labels]]</c> rules set.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; internal set; } = Empty;

    public bool IsKernelThread { get; internal set; }
    public bool IsZombie => State == 'Z';

    /// <summary>What <c>ps</c> shows as COMMAND: the command line, <c>[name]</c> for kernel threads, <c>[name] &lt;defunct&gt;</c> for zombies.</summary>
    public string DisplayCommand => CommandLine ?? (IsZombie ? $"[{Name}] <defunct>" : $"[{Name}]");

    internal static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>();

    // Bookkeeping for the next sample.
    internal ulong CpuTicks;
    internal long ReadAt;
    internal int Generation;
    internal int MetadataAge;
    internal byte[] NameBytes = [];
}
