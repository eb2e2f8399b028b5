using System.Diagnostics;

namespace Pipeline.Testing;

/// <summary>A real process (tree) a test starts and always kills, children included.</summary>
public sealed class Spawned : IDisposable
{
    private readonly System.Diagnostics.Process _process;

    private Spawned(System.Diagnostics.Process process) => _process = process;

    public int Pid => _process.Id;

    /// <summary><c>sh -c script</c>.</summary>
    public static Spawned Shell(string script) => Run("/bin/sh", "-c", script);

    public static Spawned Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardInput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        return new Spawned(System.Diagnostics.Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}"));
    }

    /// <summary>
    /// A shell spinning in a loop, in a session of its own whose scheduler autogroup gets the highest
    /// priority where that is allowed (root): on a shared 2-core machine, other sessions' work would
    /// otherwise hold it under 50% of a core.
    /// </summary>
    public static async Task<Spawned> CpuBurnerAsync()
    {
        var burner = Run("/usr/bin/setsid", "/bin/sh", "-c", "while :; do :; done");
        // Only once setsid has made the new session (and exec'd sh) does the process have an autogroup of its own.
        await Eventually.True(() => File.ReadAllText($"/proc/{burner.Pid}/cmdline").StartsWith("/bin/sh", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the burner's exec");
        try
        {
            File.WriteAllText($"/proc/{burner.Pid}/autogroup", "-20");
            burner.Boosted = true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return burner;
    }

    /// <summary>For <see cref="CpuBurnerAsync"/>: whether its priority could be raised.</summary>
    public bool Boosted { get; private set; }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}
