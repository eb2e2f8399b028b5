using System.Globalization;
using System.Text;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Expressions;
using Pipeline.Producers.Process;
using Pipeline.Schemas.Events;
using Spectre.Console;

namespace Pipeline.Cli.Commands;

/// <summary>
/// Prints snapshots for <c>pipeline ps</c>: a table (or tree) or JSON. Presentation only; what is shown
/// and in which order comes from <see cref="ProcessListing"/>. Columns are laid out here rather than
/// with Spectre's Table, because a ps line must never wrap: a terminal cuts the command at its edge
/// and a pipe gets it whole. Spectre decides whether there is colour and draws it.
/// </summary>
internal sealed class PsView
{
    private static readonly string[] Headers = ["PID", "PPID", "USER", "%CPU", "%MEM", "RSS", "STAT", "START", "CONTAINER", "COMMAND"];
    private static readonly bool[] RightAligned = [true, true, false, true, true, true, false, false, false, false];
    private const int Container = 8;

    private readonly ProcessCollector _collector;
    private readonly Expression? _filter;
    private readonly ProcessSort _order;
    private readonly bool _tree;
    private readonly bool _json;
    private readonly double _highlight;
    private readonly ProcessEventEncoder _encoder;
    private readonly bool _color;
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
        // NO_COLOR (no-color.org): set and not empty turns colour off, as does output that is not a terminal.
        _color = !Console.IsOutputRedirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        _console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = _color ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = _color ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(Console.Out),
        });
        _console.Profile.Width = int.MaxValue / 2; // lines are cut here, never wrapped by Spectre
    }

    public void Print(bool watching, TimeSpan every)
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
        int width = Console.IsOutputRedirected ? int.MaxValue : TerminalWidth();
        if (watching)
        {
            if (!Console.IsOutputRedirected) Console.Out.Write("\e[H\e[2J"); // home, clear: refresh in place
            Write(Cut(string.Create(CultureInfo.InvariantCulture,
                $"{snapshot.Time.ToLocalTime():HH:mm:ss}  {snapshot.Processes.Count} processes, {rows.Count} shown, load {snapshot.Host.Load1:0.00}, every {Duration.Format(every)} (Ctrl-C to stop)"), width), Style.Plain);
        }
        var cells = Cells(rows, snapshot, out bool containers);
        var widths = new int[Headers.Length];
        for (int c = 0; c < Headers.Length; c++) widths[c] = Headers[c].Length;
        foreach (var row in cells)
        {
            for (int c = 0; c < Headers.Length - 1; c++) widths[c] = Math.Max(widths[c], row[c].Length);
        }
        Write(Cut(Line(Headers, widths, containers), width), new Style(decoration: Decoration.Bold));
        for (int i = 0; i < rows.Count; i++)
        {
            var p = rows[i].Process;
            // Above the threshold: bold red. In tree mode, ancestors drawn only for context are dimmed.
            var style = p.CpuPct > _highlight ? new Style(Color.Red, decoration: Decoration.Bold)
                : rows[i].Matched ? Style.Plain : new Style(decoration: Decoration.Dim);
            Write(Cut(Line(cells[i], widths, containers), width), style);
        }
        Console.Out.Flush();
    }

    private List<string[]> Cells(List<ListingRow> rows, ProcessSnapshot snapshot, out bool containers)
    {
        containers = false;
        var today = snapshot.Time.ToLocalTime().Date;
        var bars = new List<bool>();
        var cells = new List<string[]>(rows.Count);
        foreach (var row in rows)
        {
            var p = row.Process;
            containers |= p.Cgroup.ContainerId is not null;
            cells.Add(
            [
                p.Pid.ToString(CultureInfo.InvariantCulture),
                p.Ppid.ToString(CultureInfo.InvariantCulture),
                p.User ?? "?",
                p.CpuPct.ToString("0.0", CultureInfo.InvariantCulture),
                p.MemoryPct.ToString("0.0", CultureInfo.InvariantCulture),
                Size(p.RssBytes),
                ProcessFieldSource.StateText(p.State),
                Start(p.Start, today),
                p.Cgroup.ContainerId is { } id ? id[..12] : "",
                _tree ? TreePrefix(bars, row) + p.DisplayCommand : p.DisplayCommand,
            ]);
        }
        return cells;
    }

    private static string Line(string[] cells, int[] widths, bool containers)
    {
        var line = new StringBuilder(128);
        for (int c = 0; c < cells.Length; c++)
        {
            if (c == Container && !containers) continue;
            if (line.Length > 0) line.Append(' ');
            if (c == cells.Length - 1) line.Append(cells[c]);
            else if (RightAligned[c]) line.Append(cells[c].PadLeft(widths[c]));
            else line.Append(cells[c].PadRight(widths[c]));
        }
        return line.ToString();
    }

    private void Write(string line, Style style)
    {
        if (!_color)
        {
            Console.Out.WriteLine(line);
            return;
        }
        _console.Write(new Text(line, style));
        _console.WriteLine();
    }

    private static string Cut(string line, int width) => line.Length <= width ? line : line[..Math.Max(0, width - 1)] + "…";

    private static string TreePrefix(List<bool> bars, ListingRow row)
    {
        while (bars.Count > row.Depth) bars.RemoveAt(bars.Count - 1);
        var prefix = new StringBuilder();
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

    private static int TerminalWidth()
    {
        try
        {
            int w = Console.WindowWidth;
            return w > 0 ? w : 80;
        }
        catch (IOException)
        {
            return 80;
        }
    }

    private static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.0}G"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.0}M"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 10):0}K"),
        _ => bytes.ToString(CultureInfo.InvariantCulture),
    };
}
