using System.Diagnostics;

namespace Pipeline.Tests.Producers.Process;

/// <summary>A real process (tree) a test starts and always kills, children included.</summary>
internal sealed class Spawned : IDisposable
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
