using System.Diagnostics;
using Pipeline.Testing;

namespace Pipeline.Tests.Producers.Probes;

/// <summary>
/// A small tmpfs of the test's own, so the disk probes see a real file system they can fill. Mounting
/// needs root (or CAP_SYS_ADMIN); <see cref="TryMount"/> returns null where that is not allowed.
/// </summary>
internal sealed class TmpfsMount : IDisposable
{
    private readonly TempDirectory _dir = new("pipeline-tmpfs");

    private TmpfsMount() { }

    public string Path => _dir.Path;

    public static TmpfsMount? TryMount(string options)
    {
        var mount = new TmpfsMount();
        if (Run("/bin/mount", "-t", "tmpfs", "-o", options, "tmpfs", mount.Path) == 0) return mount;
        mount._dir.Dispose();
        return null;
    }

    public void Dispose()
    {
        Run("/bin/umount", "-l", Path);
        _dir.Dispose();
    }

    private static int Run(string file, params string[] args)
    {
        if (!File.Exists(file)) return -1;
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = System.Diagnostics.Process.Start(start)!;
        process.WaitForExit(10_000);
        return process.HasExited ? process.ExitCode : -1;
    }
}
