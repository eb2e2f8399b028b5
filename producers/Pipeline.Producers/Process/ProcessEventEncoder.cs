using Pipeline.Schemas.Events;
using Pipeline.Schemas.Topics;

namespace Pipeline.Producers.Process;

/// <summary>Turns collector records and OOM kills into <c>ops.process.v1</c> documents (ECS field names).</summary>
public sealed class ProcessEventEncoder(string host)
{
    public const string OomSourceLabel = "oom_source";

    private readonly HostInfo _host = new() { Name = host };

    public string Host => _host.Name;

    /// <summary>A periodic sample: <c>event.kind=metric</c>.</summary>
    public ProcessEvent Sample(ProcessRecord p, DateTimeOffset at) => Document(p, at, EventKinds.Metric, null);

    /// <summary>A process seen for the first time: <c>event.kind=event</c>, <c>event.action=start</c>.</summary>
    public ProcessEvent Started(ProcessRecord p, DateTimeOffset at) => Document(p, at, EventKinds.Event, ProcessActions.Start);

    /// <summary>A process seen gone, with its last known values: <c>event.action=exit</c>.</summary>
    public ProcessEvent Exited(ProcessRecord p, DateTimeOffset at) => Document(p, at, EventKinds.Event, ProcessActions.Exit);

    public ProcessEvent Document(ProcessRecord p, DateTimeOffset at, string kind, string? action)
    {
        var cgroup = p.Cgroup;
        return new ProcessEvent
        {
            Timestamp = at,
            Event = new EventInfo
            {
                Kind = kind,
                Dataset = TopicCatalog.Process.Dataset,
                Id = EventIds.ForProcess(_host.Name, p.Pid, p.StartTicks, action ?? kind, at.ToUnixTimeMilliseconds()),
                Action = action,
            },
            Host = _host,
            Process = Info(p, action == ProcessActions.Exit ? at : null),
            User = p.Uid >= 0 ? new UserInfo { Id = p.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture), Name = p.User } : null,
            Container = cgroup.ContainerId is { } id ? new ContainerInfo { Id = id, Runtime = cgroup.ContainerRuntime } : null,
            Orchestrator = Orchestrator(cgroup.PodUid),
            Labels = p.Labels.Count > 0 ? p.Labels : null,
            Message = action switch
            {
                ProcessActions.Start => $"process {p.Pid} ({p.Name}) started",
                ProcessActions.Exit => $"process {p.Pid} ({p.Name}) exited",
                _ => null,
            },
        };
    }

    /// <summary>
    /// An OOM kill: <c>event.action=oom_kill</c>, with the victim's pid, name, cgroup and container
    /// where known. <paramref name="victim"/> is the collector's last view of the process, if it had one.
    /// </summary>
    public ProcessEvent OomKill(OomKill kill, ProcessRecord? victim)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (victim is not null)
        {
            foreach (var (k, v) in victim.Labels) labels[k] = v;
        }
        if (kill.Cgroup is { Length: > 0 } cg) labels[LabelRules.CgroupPathLabel] = cg;
        labels[OomSourceLabel] = kill.Source;
        var cgroupInfo = victim?.Cgroup ?? (kill.Cgroup is null ? null : CgroupLabels.Parse("0::" + kill.Cgroup));
        int pid = kill.Pid ?? 0;
        string name = kill.Name ?? victim?.Name ?? "unknown";
        var what = kill.Pid is null ? "an unknown process" : $"process {pid} ({name})";
        var where = kill.Cgroup is { Length: > 0 } c2 ? $" in cgroup {c2}" : "";
        return new ProcessEvent
        {
            Timestamp = kill.At,
            Event = new EventInfo
            {
                Kind = EventKinds.Event,
                Dataset = TopicCatalog.Process.Dataset,
                Id = EventIds.ForProcess(_host.Name, pid, victim?.StartTicks ?? 0, ProcessActions.OomKill + ":" + kill.Key, kill.At.ToUnixTimeMilliseconds()),
                Action = ProcessActions.OomKill,
                Severity = 3,
            },
            Host = _host,
            Process = victim is not null && victim.Pid == pid
                ? Info(victim, null) with { Name = name }
                : new ProcessInfo { Pid = pid, Name = name, Memory = kill.RssBytes is { } rss ? new ProcessMemory { Rss = rss, Vsz = 0, Pct = 0 } : null },
            User = kill.Uid is { } uid ? new UserInfo { Id = uid.ToString(System.Globalization.CultureInfo.InvariantCulture), Name = victim?.User } : null,
            Container = cgroupInfo?.ContainerId is { } id ? new ContainerInfo { Id = id, Runtime = cgroupInfo.ContainerRuntime } : null,
            Orchestrator = Orchestrator(cgroupInfo?.PodUid),
            Labels = labels,
            Message = $"OOM killer killed {what}{where} (seen through {kill.Source})",
        };
    }

    public static ProcessInfo Info(ProcessRecord p, DateTimeOffset? end) => new()
    {
        Pid = p.Pid,
        Parent = new ProcessParent { Pid = p.Ppid },
        Name = p.Name,
        Executable = p.Executable,
        CommandLine = p.CommandLine,
        Args = p.Args,
        State = ProcessFieldSource.StateText(p.State),
        Start = p.Start,
        End = end,
        Nice = p.Nice,
        Thread = new ProcessThreads { Count = p.Threads },
        Cpu = new ProcessCpu { Pct = p.CpuPct, TotalPct = p.CpuTotalPct },
        Memory = new ProcessMemory { Rss = p.RssBytes, Vsz = p.VirtualBytes, Pct = Math.Round(p.MemoryPct, 2) },
        Io = p.ReadBytes is { } read && p.WriteBytes is { } written ? new ProcessIo { ReadBytes = read, WriteBytes = written } : null,
        FdCount = p.FdCount,
    };

    private static OrchestratorInfo? Orchestrator(string? podUid) => podUid is null ? null : new OrchestratorInfo
    {
        Type = "kubernetes",
        Resource = new OrchestratorResource { Type = "pod", Id = podUid },
    };
}
