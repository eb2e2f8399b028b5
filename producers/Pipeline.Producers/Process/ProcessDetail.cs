namespace Pipeline.Producers.Process;

/// <summary>
/// What the collector reads besides <c>/proc/PID/stat</c> (pid, parent, name, state, CPU, memory, start),
/// which it always reads. Each part costs a file per process; <c>pipeline ps</c> reads only what it
/// shows or filters on, the agent reads everything.
/// </summary>
[Flags]
public enum ProcessDetail
{
    None = 0,
    /// <summary>User (<c>status</c>) and command line (<c>cmdline</c>).</summary>
    Identity = 1,
    /// <summary>The executable (<c>exe</c> link).</summary>
    Executable = 2,
    /// <summary>Cgroup, container, pod and systemd unit (<c>cgroup</c>), and the label rules.</summary>
    Cgroup = 4,
    /// <summary>Bytes read and written (<c>io</c>).</summary>
    Io = 8,
    /// <summary>Open file descriptors (<c>fd</c>).</summary>
    Fds = 16,
    All = Identity | Executable | Cgroup | Io | Fds,
}
