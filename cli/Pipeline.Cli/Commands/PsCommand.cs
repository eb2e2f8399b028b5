using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Expressions;
using Pipeline.Producers.Process;

namespace Pipeline.Cli.Commands;

internal static class PsCommand
{
    private static readonly TimeSpan DefaultWatch = TimeSpan.FromSeconds(2);

    public static Command Create()
    {
        var config = CommonOptions.Config();
        var tree = new Option<bool>("--tree", "-t") { Description = "Draw the process tree. With --filter, each match is shown with all its descendants." };
        var filter = new Option<string?>("--filter", "-f")
        {
            Description = "Only processes matching EXPR, in the language of rules' `where`: fields pid ppid name user cpu mem rss "
                + "threads state cmdline exe cgroup unit container.id label.KEY (or ECS paths such as process.name); "
                + "== != < <= > >= =~ !~ in [..] && || ! ( ); sizes like 500MiB.",
            HelpName = "EXPR",
        };
        var sort = new Option<string>("--sort", "-s") { Description = "Order: cpu or mem (highest first), pid or start (oldest first).", HelpName = "KEY", DefaultValueFactory = _ => "pid" };
        sort.AcceptOnlyFromAmong(ProcessListing.SortNames);
        var json = new Option<bool>("--json") { Description = "Print a JSON array of ECS documents (the shape the agent publishes to ops.process.v1)." };
        var watch = new Option<string?>("--watch", "-w")
        {
            Description = "Refresh in place every INTERVAL (default 2s; 1, 500ms, 5s ...) until Ctrl-C. CPU% is then since the previous refresh, like top.",
            HelpName = "INTERVAL",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var highlight = new Option<double?>("--highlight") { Description = "Highlight processes above this CPU% of one core (default: process.cpu_highlight, 50).", HelpName = "PCT" };
        var bench = new Option<int>("--bench") { Hidden = true, Description = "Time N snapshots and print the result (for bench/ps.sh)." };
        var command = new Command("ps", """
            Show the processes on this machine, read straight from /proc: a sharper ps.
            Columns: PID, PPID, USER, %CPU (of one core, like top), %MEM, RSS, STAT, START, COMMAND; and
            CONTAINER when a process runs in one (docker, containerd, cri-o, podman). Processes above the
            CPU threshold are highlighted. Colour is off when the output is not a terminal or NO_COLOR is set.
            One-shot CPU% is the average since each process started (as ps shows it); with --watch it is
            the use since the previous refresh.

            Examples:
              pipeline ps --sort cpu                               # busiest first
              pipeline ps --tree --filter "ppid==$$"               # this shell's children and their whole subtrees
              pipeline ps --filter 'rss > 500MiB && user != "root"'
              pipeline ps --filter 'name =~ "^(java|node)$"' --json | jq '.[].process.pid'
              pipeline ps --watch 1s --sort cpu
            """)
        { config, tree, filter, sort, json, watch, highlight, bench };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var loaded = CommonOptions.Load(parse.GetValue(config));
            if (loaded is null) return CommonOptions.ExitConfigError;
            var options = loaded.Config.Process;
            Expression? where = null;
            if (parse.GetValue(filter) is { } text)
            {
                try { where = Expression.Parse(text); }
                catch (ExpressionException e)
                {
                    Console.Error.WriteLine($"error: --filter: {e.Message}");
                    Console.Error.WriteLine($"  {text}");
                    Console.Error.WriteLine($"  {new string(' ', e.Position)}^");
                    return CommonOptions.ExitConfigError;
                }
            }
            ProcessListing.TryParseSort(parse.GetValue(sort) ?? "pid", out var order);
            TimeSpan? every = null;
            if (parse.GetResult(watch) is not null)
            {
                var value = parse.GetValue(watch);
                if (value is null) every = DefaultWatch;
                else if (TryParseInterval(value, out var interval)) every = interval;
                else
                {
                    Console.Error.WriteLine($"error: --watch {value}: not an interval; write e.g. 2, 2s or 500ms");
                    return CommonOptions.ExitConfigError;
                }
            }
            if (parse.GetValue(bench) is > 0 and var n) return Bench(options.ProcRoot, n);
            // Read only what is shown or filtered on: every file per process costs about as much as ps spends on it.
            var detail = parse.GetValue(json) ? ProcessDetail.All : ProcessDetail.Identity | ProcessDetail.Cgroup;
            if (where is not null) detail |= ProcessFieldSource.DetailFor(where);
            var collector = new ProcessCollector(options.ProcRoot, new LabelRules(options.Labels), detail: detail);
            if (collector.HidepidMode is { } hidepid && Environment.UserName != "root")
                Console.Error.WriteLine($"note: {collector.ProcRoot} is mounted with {hidepid}: processes of other users are not shown");

            var view = new PsView(collector, loaded.Config.EffectiveHostName, where, order, parse.GetValue(tree), parse.GetValue(json),
                parse.GetValue(highlight) ?? options.CpuHighlight);
            if (every is null)
            {
                view.Print(watching: false, DefaultWatch);
                return 0;
            }
            try
            {
                while (true)
                {
                    view.Print(watching: true, every.Value);
                    await Task.Delay(every.Value, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                return 0;
            }
        });
        return command;
    }

    private static bool TryParseInterval(string text, out TimeSpan interval)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)) interval = TimeSpan.FromSeconds(seconds);
        else if (!Duration.TryParse(text, out interval)) return false;
        return interval >= TimeSpan.FromMilliseconds(100);
    }

    // For bench/ps.sh: the cost of one snapshot by a new collector (every process read from scratch,
    // as ps does): with the fields ps -eo pid,ppid,user,pcpu,rss,stat,lstart,args shows, with what the
    // pipeline ps table shows, and with every field; then a steady-state sample as the agent takes it.
    private static int Bench(string procRoot, int iterations)
    {
        (string Name, ProcessDetail Detail)[] variants =
        [
            ("ps_fields", ProcessDetail.Identity),
            ("table", ProcessDetail.Identity | ProcessDetail.Cgroup),
            ("all", ProcessDetail.All),
        ];
        var line = new System.Text.StringBuilder();
        int processes = 0;
        foreach (var (name, detail) in variants)
        {
            var times = new List<double>();
            for (int i = 0; i < iterations; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                processes = new ProcessCollector(procRoot, detail: detail).Sample().Processes.Count;
                times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
            Append(line, name, times);
        }
        var steady = new ProcessCollector(procRoot);
        steady.Sample();
        var warm = new List<double>();
        for (int i = 0; i < iterations; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            steady.Sample();
            warm.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        Append(line, "agent_sample", warm);
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"processes={processes} iterations={iterations}{line}"));
        return 0;

        static void Append(System.Text.StringBuilder line, string name, List<double> times)
        {
            times.Sort();
            line.Append(CultureInfo.InvariantCulture, $" {name}_median_ms={times[times.Count / 2]:0.00} {name}_min_ms={times[0]:0.00}");
        }
    }
}
