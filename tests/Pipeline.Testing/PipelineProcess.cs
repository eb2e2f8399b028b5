using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Pipeline.Testing;

/// <summary>The built <c>pipeline</c> binary running as a separate process, as a user would run it.</summary>
public sealed partial class PipelineProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly ConcurrentQueue<string> _lines = new();

    private PipelineProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (_stdout) _stdout.AppendLine(e.Data); _lines.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>cli/Pipeline.Cli/bin/{Debug|Release}/net10.0/pipeline.dll, the build matching the tests'.</summary>
    public static string Dll
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
            var dll = Path.Combine(RepositoryRoot.Path, "cli", "Pipeline.Cli", "bin", configuration, "net10.0", "pipeline.dll");
            if (!File.Exists(dll)) throw new FileNotFoundException($"build the CLI first: {dll} is missing");
            return dll;
        }
    }

    /// <summary>
    /// Starts a <c>pipeline</c> executable other than the build's: the published single file
    /// (artifacts/pipeline) or one installed from the .deb.
    /// </summary>
    public static PipelineProcess StartExecutable(string executable, IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        var psi = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        Peers.Apply(psi, environment);
        return new PipelineProcess(Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {executable}"));
    }

    /// <summary>artifacts/pipeline, the single file build/publish.sh writes, or null when it has not been published.</summary>
    public static string? PublishedExecutable
    {
        get
        {
            var path = Path.Combine(RepositoryRoot.Path, "artifacts", "pipeline");
            return File.Exists(path) ? path : null;
        }
    }

    public const string NotPublishedReason = "artifacts/pipeline is missing: run build/publish.sh (build/test.sh runs it before the tests)";

    public static PipelineProcess Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        return new PipelineProcess(Process.Start(psi) ?? throw new InvalidOperationException("cannot start dotnet"));
    }

    /// <summary>Runs the binary to completion (for commands like <c>version</c> and <c>config check</c>).</summary>
    public static Task<ProcessResult> RunAsync(params string[] args)
        => Peers.RunAsync("dotnet", [Dll, .. args], timeout: TimeSpan.FromSeconds(60));

    public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }
    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }
    public bool HasExited => _process.HasExited;
    public int Id => _process.Id;

    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var line in _lines)
            {
                if (match(line)) return line;
            }
            if (_process.HasExited) break;
            await Task.Delay(50);
        }
        throw new TimeoutException($"no matching line within {timeout}; exited={_process.HasExited}\nstdout:\n{Stdout}\nstderr (tail):\n{Tail(Stderr)}");
    }

    /// <summary>Sends SIGINT (Ctrl-C) or SIGTERM and waits for the exit code.</summary>
    public async Task<int> StopAsync(int signal = SigInt, TimeSpan? timeout = null)
    {
        if (!_process.HasExited) Kill(_process.Id, signal);
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(90));
        await _process.WaitForExitAsync(cts.Token);
        _process.WaitForExit(); // flush the redirected output
        return _process.ExitCode;
    }

    /// <summary>kill -9: no drain, no commit, no flush, as when the machine or the OOM killer ends it.</summary>
    public Task KillAsync() => CrashAsync();

    /// <summary>CPU time (user + system) the process has used so far, from /proc.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            long ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / 100.0);
        }
    }

    public const int SigHup = 1;
    public const int SigInt = 2;
    public const int SigKill = 9;
    public const int SigTerm = 15;

    /// <summary>Sends a signal without waiting (SIGHUP to reload, SIGKILL to crash it).</summary>
    public void Signal(int signal)
    {
        if (!_process.HasExited) Kill(_process.Id, signal);
    }

    /// <summary>kill -9, and wait until it is gone: no shutdown code runs, as in a crash or an OOM kill.</summary>
    public async Task CrashAsync()
    {
        Signal(SigKill);
        await _process.WaitForExitAsync();
    }

    /// <summary>Resident set size now, from /proc (bytes); 0 once the process has exited.</summary>
    public long ResidentBytes
    {
        get
        {
            try
            {
                foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
                {
                    if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                        return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1024;
                }
            }
            catch (IOException)
            {
            }
            return 0;
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    public static string Tail(string text, int lines = 40)
    {
        var all = text.Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
