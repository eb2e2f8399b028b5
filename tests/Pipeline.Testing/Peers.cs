using System.Diagnostics;

namespace Pipeline.Testing;

/// <summary>
/// Real tools a user would point at our output (kcat, prometheus, promtool, Debian's python3 with
/// prometheus_client). .ci/run installs them; on a machine without them the tests that need them are
/// skipped with the install command in the reason, never passed silently.
/// </summary>
public static partial class Peers
{
    public static string? Find(string tool)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':'))
        {
            var path = Path.Combine(dir, tool);
            if (File.Exists(path)) return path;
        }
        return null;
    }

    /// <summary>Debian's own python3 (prometheus_client is installed for it, not for a pyenv one earlier on PATH).</summary>
    public static string? DebianPython => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : null;

    /// <summary>The reason to skip when <paramref name="tool"/> is missing, or null when it is there.</summary>
    public static string? MissingReason(string tool, string package)
        => Find(tool) is null ? $"{tool} is not installed here (apt-get install -y {package}); .ci/run installs it" : null;

    /// <param name="environment">Variables to set (a null value removes one) on top of this process's environment.</param>
    public static async Task<ProcessResult> RunAsync(string file, IEnumerable<string> args, string? stdin = null, TimeSpan? timeout = null, string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        Apply(psi, environment);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {timeout}");
        }
        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }
}

public static partial class Peers
{
    /// <summary>Sets (or, for a null value, removes) <paramref name="environment"/>'s variables on <paramref name="psi"/>.</summary>
    public static void Apply(ProcessStartInfo psi, IReadOnlyDictionary<string, string?>? environment)
    {
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null) psi.Environment.Remove(name);
            else psi.Environment[name] = value;
        }
    }
}

public sealed record ProcessResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}
