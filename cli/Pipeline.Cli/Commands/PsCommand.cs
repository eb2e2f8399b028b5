using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Expressions;
using Pipeline.Producers.Process;
using Pipeline.Schemas.Events;
using Spectre.Console;

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
            var collector = new ProcessCollector(options.ProcRoot, new LabelRules(options.Labels));
            if (collector.HidepidMode is { } hidepid && Environment.UserName != "root")
                Console.Error.WriteLine($"note: {collector.ProcRoot} is mounted with {hidepid}: processes of other users are not shown");
            if (parse.GetValue(bench) is > 0 and var n) return Bench(options.ProcRoot, n);

            var view = new PsView(collector, loaded.Config.EffectiveHostName, where, order, parse.GetValue(tree), parse.GetValue(json),
                parse.GetValue(highlight) ?? options.CpuHighlight);
            if (every is null)
            {
                view.Print(watching: false);
                return 0;
            }
            try
            {
                while (true)
                {
                    view.Print(watching: true, every);
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

    // For bench/ps.sh: the cost of a cold snapshot (new collector: every process read in full, as ps
    // does) and of a warm one (the agent's steady state).
    private static int Bench(string procRoot, int iterations)
    {
        var cold = new List<double>();
        var warm = new List<double>();
        int processes = 0;
        var steady = new ProcessCollector(procRoot);
        steady.Sample();
        for (int i = 0; i < iterations; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            processes = new ProcessCollector(procRoot).Sample().Processes.Count;
            cold.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            t0 = Stopwatch.GetTimestamp();
            steady.Sample();
            warm.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        cold.Sort();
        warm.Sort();
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"processes={processes} iterations={iterations} cold_median_ms={cold[cold.Count / 2]:0.00} cold_min_ms={cold[0]:0.00} warm_median_ms={warm[warm.Count / 2]:0.00} warm_min_ms={warm[0]:0.00}"));
        return 0;
    }

    /// <summary>Renders snapshots as a table (or tree, or JSON). Only presentation: selection lives in <see cref="ProcessListing"/>.</summary>
    private sealed class PsView
    {
        private readonly ProcessCollector _collector;
        private readonly Expression? _filter;
        private readonly ProcessSort _order;
        private readonly bool _tree;
        private readonly bool _json;
        private readonly double _highlight;
        private readonly ProcessEventEncoder _encoder;
        private readonly StringWriter _buffer = new();
        private readonly IAnsiConsole _console;

        public PsView(ProcessCollector collector, string host, Expression? filter, ProcessSort order, bool tree, bool json, double highlight)
        {
            _collector = collector;
            _filter = filter;
            _order = order;
            _tree = tree;
            _json = json;
            _highlight = highlight;
            _encoder = new ProcessEventEncoder(host);
            _console = CreateConsole(_buffer);
        }

        public void Print(bool watching, TimeSpan? every = null)
        {
            var snapshot = _collector.Sample();
            var rows = ProcessListing.Rows(snapshot.Processes, _filter, _order, _tree);
            if (_json)
            {
                var documents = new List<ProcessEvent>(rows.Count);
                foreach (var row in rows) documents.Add(_encoder.Sample(row.Process, snapshot.Time));
                using var stdout = Console.OpenStandardOutput();
                System.Text.Json.JsonSerializer.Serialize(stdout, documents, SnapshotJsonContext.Default.ListProcessEvent);
                stdout.Write("\n"u8);
                return;
            }
            if (watching)
            {
                if (!Console.IsOutputRedirected) Console.Out.Write("\e[H\e[2J"); // home, clear: refresh in place
                _console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                    $"{snapshot.Time.ToLocalTime():HH:mm:ss}  {snapshot.Processes.Count} processes, {rows.Count} shown, load {snapshot.Host.Load1:0.00}, every {Duration.Format(every ?? DefaultWatch)} (Ctrl-C to stop)")));
            }
            _console.Write(Table(rows, snapshot));
            // Spectre pads every cell to its column's width; a ps line ends with its command.
            var output = Console.Out;
            foreach (var line in _buffer.ToString().AsSpan().EnumerateLines())
            {
                if (!line.IsEmpty) output.WriteLine(line.TrimEnd(' '));
            }
            output.Flush();
            _buffer.GetStringBuilder().Clear();
        }

        private Table Table(List<ListingRow> rows, ProcessSnapshot snapshot)
        {
            bool containers = false;
            foreach (var row in rows) containers |= row.Process.Cgroup.ContainerId is not null;
            var table = new Table().Border(TableBorder.None).ShowHeaders();
            table.AddColumn(new TableColumn("PID").RightAligned().NoWrap());
            table.AddColumn(new TableColumn("PPID").RightAligned().NoWrap());
            table.AddColumn(new TableColumn("USER").NoWrap());
            table.AddColumn(new TableColumn("%CPU").RightAligned().NoWrap());
            table.AddColumn(new TableColumn("%MEM").RightAligned().NoWrap());
            table.AddColumn(new TableColumn("RSS").RightAligned().NoWrap());
            table.AddColumn(new TableColumn("STAT").NoWrap());
            table.AddColumn(new TableColumn("START").NoWrap());
            if (containers) table.AddColumn(new TableColumn("CONTAINER").NoWrap());
            table.AddColumn(new TableColumn("COMMAND").NoWrap());
            var prefix = new List<bool>(); // per depth: does a later sibling follow (draw a bar)?
            var today = snapshot.Time.ToLocalTime().Date;
            foreach (var row in rows)
            {
                var p = row.Process;
                bool hot = p.CpuPct > _highlight;
                var style = hot ? new Style(Color.Red, decoration: Decoration.Bold) : row.Matched ? Style.Plain : new Style(decoration: Decoration.Dim);
                var cells = new List<Text>
                {
                    new(p.Pid.ToString(CultureInfo.InvariantCulture), style),
                    new(p.Ppid.ToString(CultureInfo.InvariantCulture), style),
                    new(p.User ?? "?", style),
                    new(p.CpuPct.ToString("0.0", CultureInfo.InvariantCulture), style),
                    new(p.MemoryPct.ToString("0.0", CultureInfo.InvariantCulture), style),
                    new(Size(p.RssBytes), style),
                    new(ProcessFieldSource.StateText(p.State), style),
                    new(Start(p.Start, today), style),
                };
                if (containers) cells.Add(new Text(p.Cgroup.ContainerId is { } id ? id[..12] : "", style));
                var command = _tree ? TreePrefix(prefix, row) + p.DisplayCommand : p.DisplayCommand;
                cells.Add(new Text(command, style));
                table.AddRow(cells);
            }
            return table;
        }

        private static string TreePrefix(List<bool> bars, ListingRow row)
        {
            while (bars.Count > row.Depth) bars.RemoveAt(bars.Count - 1);
            var prefix = new System.Text.StringBuilder();
            for (int i = 0; i < row.Depth; i++)
            {
                // bars[k]: the ancestor at depth k has a later sibling, so its line continues down.
                if (i < row.Depth - 1) prefix.Append(bars[i + 1] ? "│  " : "   ");
                else prefix.Append(row.IsLastSibling ? "└─ " : "├─ ");
            }
            if (bars.Count == row.Depth) bars.Add(!row.IsLastSibling);
            return prefix.ToString();
        }

        private static string Start(DateTimeOffset start, DateTime today)
        {
            var local = start.ToLocalTime();
            return local.Date == today ? local.ToString("HH:mm:ss", CultureInfo.InvariantCulture) : local.ToString("MMM dd", CultureInfo.InvariantCulture);
        }

        private static int SafeWindowWidth()
        {
            try { return Console.WindowWidth; }
            catch (IOException) { return 80; }
        }

        internal static string Size(long bytes) => bytes switch
        {
            >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.0}G"),
            >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.0}M"),
            >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 10):0}K"),
            _ => bytes.ToString(CultureInfo.InvariantCulture),
        };

        private static IAnsiConsole CreateConsole(TextWriter output)
        {
            // NO_COLOR (no-color.org): set and not empty turns colour off, as does output that is not a terminal.
            bool color = !Console.IsOutputRedirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Ansi = color ? AnsiSupport.Yes : AnsiSupport.No,
                ColorSystem = color ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
                Out = new AnsiConsoleOutput(output),
            });
            // A pipe gets whole command lines, as ps does; a terminal gets lines cut at its width.
            console.Profile.Width = Console.IsOutputRedirected ? 100_000 : Math.Max(40, SafeWindowWidth());
            return console;
        }
    }
}
