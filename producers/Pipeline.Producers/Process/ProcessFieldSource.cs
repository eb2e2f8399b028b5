using System.Globalization;
using Pipeline.Plumbing.Expressions;

namespace Pipeline.Producers.Process;

/// <summary>
/// A process as the expression language sees it, for <c>pipeline ps --filter</c> and <c>process.where</c>.
/// Both the short names people type at a shell and the ECS paths of the published documents work:
/// <code>
/// pid ppid name exe cmdline user uid state cpu cpu_total mem rss vsz threads nice fd read_bytes write_bytes
/// start cgroup unit container.id container.runtime pod kthread label.KEY (or labels.KEY)
/// process.pid process.parent.pid process.name process.cpu.pct process.memory.rss user.name ...
/// </code>
/// </summary>
public readonly struct ProcessFieldSource(ProcessRecord process) : IFieldSource
{
    public ProcessRecord Process { get; } = process;

    public FieldValue Get(FieldPath path)
    {
        var p = Process;
        switch (path.Text)
        {
            case "pid" or "process.pid": return FieldValue.Of(p.Pid);
            case "ppid" or "process.parent.pid": return FieldValue.Of(p.Ppid);
            case "name" or "comm" or "process.name": return FieldValue.Of(p.Name);
            case "exe" or "process.executable": return p.Executable is null ? FieldValue.Missing : FieldValue.Of(p.Executable);
            case "cmdline" or "command" or "args" or "process.command_line": return p.CommandLine is null ? FieldValue.Missing : FieldValue.Of(p.CommandLine);
            case "user" or "user.name": return p.User is null ? FieldValue.Missing : FieldValue.Of(p.User);
            case "uid" or "user.id": return p.Uid < 0 ? FieldValue.Missing : FieldValue.Of(p.Uid);
            case "state" or "process.state": return FieldValue.Of(StateText(p.State));
            case "cpu" or "process.cpu.pct": return FieldValue.Of(p.CpuPct);
            case "cpu_total" or "process.cpu.total_pct": return FieldValue.Of(p.CpuTotalPct);
            case "mem" or "process.memory.pct": return FieldValue.Of(p.MemoryPct);
            case "rss" or "process.memory.rss": return FieldValue.Of(p.RssBytes);
            case "vsz" or "process.memory.vsz": return FieldValue.Of(p.VirtualBytes);
            case "threads" or "process.thread.count": return FieldValue.Of(p.Threads);
            case "nice" or "process.nice": return FieldValue.Of(p.Nice);
            case "fd" or "fds" or "process.fd_count": return p.FdCount is { } fd ? FieldValue.Of(fd) : FieldValue.Missing;
            case "read_bytes" or "process.io.read_bytes": return p.ReadBytes is { } r ? FieldValue.Of(r) : FieldValue.Missing;
            case "write_bytes" or "process.io.write_bytes": return p.WriteBytes is { } w ? FieldValue.Of(w) : FieldValue.Missing;
            case "start" or "process.start": return FieldValue.Of(p.Start.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
            case "cgroup": return FieldValue.Of(p.Cgroup.Path);
            case "unit": return p.Cgroup.SystemdUnit is { } unit ? FieldValue.Of(unit) : FieldValue.Missing;
            case "container" or "container.id": return p.Cgroup.ContainerId is { } id ? FieldValue.Of(id) : FieldValue.Missing;
            case "container.runtime": return p.Cgroup.ContainerRuntime is { } rt ? FieldValue.Of(rt) : FieldValue.Missing;
            case "pod" or "orchestrator.resource.id": return p.Cgroup.PodUid is { } pod ? FieldValue.Of(pod) : FieldValue.Missing;
            case "kthread": return FieldValue.Of(p.IsKernelThread);
        }
        var segments = path.Segments;
        if (segments.Length >= 2 && segments[0] is "label" or "labels")
        {
            var key = segments.Length == 2 ? segments[1] : string.Join('.', segments, 1, segments.Length - 1);
            return p.Labels.TryGetValue(key, out var value) ? FieldValue.Of(value) : FieldValue.Missing;
        }
        return FieldValue.Missing;
    }

    /// <summary>What the collector must read for <paramref name="expression"/> to see every field it names.</summary>
    public static ProcessDetail DetailFor(Expression expression)
    {
        var detail = ProcessDetail.None;
        foreach (var field in expression.Fields) detail |= DetailFor(field);
        return detail;
    }

    private static ProcessDetail DetailFor(FieldPath path) => path.Text switch
    {
        "exe" or "process.executable" => ProcessDetail.Executable,
        "cmdline" or "command" or "args" or "process.command_line" or "user" or "user.name" or "uid" or "user.id" => ProcessDetail.Identity,
        "cgroup" or "unit" or "container" or "container.id" or "container.runtime" or "pod" or "orchestrator.resource.id" => ProcessDetail.Cgroup,
        "fd" or "fds" or "process.fd_count" => ProcessDetail.Fds,
        "read_bytes" or "write_bytes" or "process.io.read_bytes" or "process.io.write_bytes" => ProcessDetail.Io,
        // Labels come from rules that may match on the command line and user as well as the cgroup.
        _ when path.Segments[0] is "label" or "labels" => ProcessDetail.Cgroup | ProcessDetail.Identity,
        _ => ProcessDetail.None,
    };

    // Interned one-letter strings: the state is compared often and must not allocate.
    private static readonly string[] States = BuildStates();

    public static string StateText(char state) => state < 128 ? States[state] : state.ToString();

    private static string[] BuildStates()
    {
        var states = new string[128];
        for (int i = 0; i < states.Length; i++) states[i] = ((char)i).ToString();
        return states;
    }
}
