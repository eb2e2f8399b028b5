namespace Pipeline.Producers.Process;

/// <summary>Machine-wide numbers read with every sample.</summary>
public sealed record HostTotals(int Cpus, long MemoryTotalBytes, long MemoryAvailableBytes, DateTimeOffset BootTime, double UptimeSeconds, double Load1, double Load5, double Load15);

/// <summary>The result of one <see cref="ProcessCollector.Sample"/>: valid until the next call on the same collector.</summary>
public sealed class ProcessSnapshot
{
    public DateTimeOffset Time { get; internal set; }
    public HostTotals Host { get; internal set; } = new(1, 0, 0, DateTimeOffset.UnixEpoch, 0, 0, 0, 0);
    public List<ProcessRecord> Processes { get; } = [];

    /// <summary>Processes first seen by this call (empty on a collector's first call: those were already running).</summary>
    public List<ProcessRecord> Started { get; } = [];

    /// <summary>Processes gone since the previous call, with their last known values.</summary>
    public List<ProcessRecord> Exited { get; } = [];

    /// <summary>Processes skipped because they exited while being read.</summary>
    public int Races { get; internal set; }

    /// <summary>Processes skipped because their <c>stat</c> was not readable (hidepid).</summary>
    public int Hidden { get; internal set; }
}
