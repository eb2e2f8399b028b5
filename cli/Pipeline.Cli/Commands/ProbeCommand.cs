using System.Collections.Concurrent;
using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Plumbing.Config;
using Pipeline.Producers.Probes;
using Spectre.Console;

namespace Pipeline.Cli.Commands;

/// <summary><c>pipeline probe run</c>: the configured probes on this machine, as a table, without Kafka.</summary>
internal static class ProbeCommand
{
    public const int ExitProblem = 1;

    public static Command Create()
    {
        var config = CommonOptions.Config();
        var once = new Option<bool>("--once") { Description = "Run every probe once, print the table and exit (for scripts and cron)." };
        var run = new Command("run", """
            Run the [[probes]] of a config here and print their results as a table. Nothing is sent to Kafka.
            Exit code: 0 when no probe reports a problem, 1 when at least one does, 2 for a bad config,
            so a script or cron job can act on it. Without --once the probes keep running on their
            intervals and the table is printed again after each round, until Ctrl-C.

            Examples:
              pipeline probe run --config /etc/pipeline/agent.toml --once
              pipeline probe run --config agent.toml --once || systemctl restart myapp
              pipeline probe run --config agent.toml          # watch; Ctrl-C to stop
            """) { config, once };
        run.SetAction(async (parse, cancellationToken) =>
        {
            var file = parse.GetValue(config);
            var loaded = CommonOptions.Load(file);
            if (loaded is null) return CommonOptions.ExitConfigError;
            if (loaded.Config.Probes.Count == 0)
            {
                Console.Error.WriteLine($"error: {loaded.Source} has no [[probes]]; add one, e.g.\n\n[[probes]]\nname = \"root-disk\"\ntype = \"disk\"\ntarget = \"/\"\nmax_used_pct = 90\n");
                return CommonOptions.ExitConfigError;
            }
            var probes = ProbeFactory.CreateAll(loaded.Config.Probes);
            try
            {
                return parse.GetValue(once)
                    ? await RunOnceAsync(probes, loaded.Config.ProbeRunner.Concurrency, cancellationToken).ConfigureAwait(false)
                    : await WatchAsync(probes, loaded.Config.ProbeRunner.Concurrency, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                foreach (var probe in probes) (probe.Probe as IDisposable)?.Dispose();
            }
        });
        return new Command("probe", "Health probes: run them here and see their results.") { run };
    }

    private static async Task<int> RunOnceAsync(List<ScheduledProbe> probes, int concurrency, CancellationToken cancellationToken)
    {
        using var slots = new SemaphoreSlim(concurrency);
        var reports = await Task.WhenAll(probes.Select(async probe =>
        {
            await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            try { return await ProbeRunner.RunAsync(probe, cancellationToken).ConfigureAwait(false); }
            finally { slots.Release(); }
        })).ConfigureAwait(false);
        Print(reports);
        return ExitCode(reports);
    }

    private static async Task<int> WatchAsync(List<ScheduledProbe> probes, int concurrency, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        var latest = new LatestReports();
        using var scheduler = new ProbeScheduler(probes, concurrency, [latest], NullLogger.Instance);
        await scheduler.StartAsync(stop.Token).ConfigureAwait(false);
        var round = probes.Min(p => p.Interval);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(round + TimeSpan.FromMilliseconds(100), stop.Token).ConfigureAwait(false);
                AnsiConsole.MarkupLine($"[grey]{DateTime.Now:HH:mm:ss}[/]");
                Print(latest.InOrder(probes));
            }
        }
        catch (OperationCanceledException)
        {
        }
        using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await scheduler.StopAsync(stopTimeout.Token).ConfigureAwait(false);
        return ExitCode(latest.InOrder(probes));
    }

    private static int ExitCode(IEnumerable<ProbeReport> reports) => reports.Any(r => r.Result.Status == ProbeStatus.Problem) ? ExitProblem : 0;

    private static void Print(IEnumerable<ProbeReport> reports)
    {
        // A pipe or a cron mail has no width: keep one probe per line there instead of wrapping at 80 columns.
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        if (Console.IsOutputRedirected) console.Profile.Width = 4096;
        var table = new Table().Border(TableBorder.Simple);
        foreach (var column in new[] { "PROBE", "TYPE", "TARGET", "STATUS", "REASON", "CONDITION", "TIME", "MESSAGE" }) table.AddColumn(column);
        foreach (var r in reports)
        {
            var status = r.Result.Status switch
            {
                ProbeStatus.Ok => "[green]ok[/]",
                ProbeStatus.Problem => "[red]problem[/]",
                _ => "[yellow]unknown[/]",
            };
            var condition = r.Probe.Config.Condition.Length > 0 ? $"{r.Probe.Config.Condition}={ProbeStatusText.Of(r.ConditionStatus)}" : "";
            table.AddRow(
                Markup.Escape(r.Probe.Name), r.Probe.Config.Type, Markup.Escape(r.Probe.Probe.Target), status,
                Markup.Escape(r.Result.Reason), Markup.Escape(condition), $"{r.DurationMs:0.#} ms", Markup.Escape(r.Result.Message));
        }
        console.Write(table);
    }

    /// <summary>The newest report per probe, for the watch table.</summary>
    private sealed class LatestReports : IProbeReportSink
    {
        private readonly ConcurrentDictionary<string, ProbeReport> _byName = new(StringComparer.Ordinal);

        public void Report(ProbeReport report) => _byName[report.Probe.Name] = report;

        public List<ProbeReport> InOrder(List<ScheduledProbe> probes)
            => [.. probes.Select(p => _byName.GetValueOrDefault(p.Name)).OfType<ProbeReport>()];
    }
}
