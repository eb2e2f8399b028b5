using System.Runtime.InteropServices;

namespace Pipeline.Producers.Probes;

/// <summary>
/// Starting a command in its own process group, and killing the group. Process.Kill(entireProcessTree)
/// walks parent links at kill time and so misses a grandchild whose parent already exited (it is re-parented
/// to init); a process group keeps it. .NET cannot start a child in a new group itself, so the command is
/// started through setsid(1), which execs it in place: the pid .NET sees is the command's, and the group leader's.
/// </summary>
internal static partial class ProcessGroup
{
    private const int SigKill = 9;

    /// <summary>setsid(1) from util-linux, or null where it is missing (then only the tree walk is used).</summary>
    public static readonly string? Setsid = File.Exists("/usr/bin/setsid") ? "/usr/bin/setsid" : File.Exists("/bin/setsid") ? "/bin/setsid" : null;

    /// <summary>SIGKILL to every process in the group led by <paramref name="leaderPid"/>; harmless when the group is gone.</summary>
    public static void Kill(int leaderPid)
    {
        if (leaderPid > 1) _ = kill(-leaderPid, SigKill);
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
