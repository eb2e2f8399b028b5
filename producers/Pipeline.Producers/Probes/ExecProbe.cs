using System.ComponentModel;
using System.Diagnostics;
using Pipeline.Plumbing.Config;

namespace Pipeline.Producers.Probes;

/// <summary>
/// <c>exec</c>: runs <c>argv</c> without a shell and maps the exit code the node-problem-detector way:
/// 0 OK, 1 problem, anything else unknown. Its trimmed stdout (or stderr) is the message, capped at
/// <c>max_output_bytes</c>. On timeout the whole process group and tree is killed. Value: the exit code.
/// </summary>
public sealed class ExecProbe(ProbeConfig config) : IProbe
{
    private static readonly TimeSpan ReapWait = TimeSpan.FromSeconds(2);

    private readonly string[] _argv = [.. config.Argv];
    private readonly int _maxOutput = config.MaxOutputBytes;

    public string Target { get; } = string.Join(' ', config.Argv);

    public async ValueTask<ProbeResult> RunAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(_argv[0])) return ProbeResult.Unknown(ProbeReasons.Missing, $"{_argv[0]} does not exist");
        var start = new ProcessStartInfo
        {
            FileName = ProcessGroup.Setsid ?? _argv[0],
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        for (int i = ProcessGroup.Setsid is null ? 1 : 0; i < _argv.Length; i++) start.ArgumentList.Add(_argv[i]);
        System.Diagnostics.Process process;
        try
        {
            process = System.Diagnostics.Process.Start(start) ?? throw new Win32Exception("no process started");
        }
        catch (Win32Exception e)
        {
            return ProbeResult.Unknown(ProbeReasons.Error, $"cannot start {_argv[0]}: {e.Message}");
        }
        using (process)
        {
            int pid = process.Id;
            process.StandardInput.Close();
            var stdout = new CappedOutput(_maxOutput);
            var stderr = new CappedOutput(_maxOutput);
            var drained = Task.WhenAll(
                stdout.DrainAsync(process.StandardOutput.BaseStream, cancellationToken),
                stderr.DrainAsync(process.StandardError.BaseStream, cancellationToken));
            try
            {
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                // A background grandchild that kept the pipes open keeps this waiting, until the timeout kills the group.
                await drained.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                KillEverything(process, pid);
                try { await process.WaitForExitAsync(CancellationToken.None).WaitAsync(ReapWait, CancellationToken.None).ConfigureAwait(false); }
                catch (TimeoutException) { }
                throw;
            }
            finally
            {
                // The command's own exit does not end its group: a daemonised leftover is not ours to keep.
                ProcessGroup.Kill(pid);
            }
            int code = process.ExitCode;
            var text = stdout.Text();
            if (text.Length == 0) text = stderr.Text();
            if (text.Length == 0) text = $"{_argv[0]} exited with {code}";
            return code switch
            {
                0 => ProbeResult.Ok(text, code),
                1 => ProbeResult.Problem(ProbeReasons.ExitCode, text, code),
                _ => ProbeResult.Unknown(ProbeReasons.ExitCode, $"exit code {code}: {text}", code),
            };
        }
    }

    private static void KillEverything(System.Diagnostics.Process process, int pid)
    {
        ProcessGroup.Kill(pid);
        try
        {
            // Children that moved to a group of their own are still found through their parent links.
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }
}
