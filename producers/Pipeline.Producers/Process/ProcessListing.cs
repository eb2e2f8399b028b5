using Pipeline.Plumbing.Expressions;

namespace Pipeline.Producers.Process;

/// <summary>How <c>pipeline ps</c> orders processes.</summary>
public enum ProcessSort
{
    Pid,
    Cpu,
    Mem,
    Start,
}

/// <summary>One line of <c>pipeline ps</c>: the process, its depth in tree mode, and whether the filter matched it (rather than its ancestor).</summary>
public readonly record struct ListingRow(ProcessRecord Process, int Depth, bool IsLastSibling, bool Matched);

/// <summary>
/// What <c>pipeline ps</c> shows for a snapshot: the filter, the order and, in tree mode, the subtrees.
/// In tree mode a filter keeps each match together with all its descendants.
/// </summary>
public static class ProcessListing
{
    public static readonly string[] SortNames = ["cpu", "mem", "pid", "start"];

    public static bool TryParseSort(string text, out ProcessSort sort)
    {
        sort = text switch
        {
            "cpu" => ProcessSort.Cpu,
            "mem" or "memory" or "rss" => ProcessSort.Mem,
            "pid" => ProcessSort.Pid,
            "start" => ProcessSort.Start,
            _ => (ProcessSort)(-1),
        };
        return (int)sort >= 0;
    }

    /// <summary>cpu and mem: highest first; pid and start: oldest first. Ties go by pid.</summary>
    public static Comparison<ProcessRecord> Order(ProcessSort sort) => sort switch
    {
        ProcessSort.Cpu => static (a, b) => Tie(b.CpuPct.CompareTo(a.CpuPct), a, b),
        ProcessSort.Mem => static (a, b) => Tie(b.RssBytes.CompareTo(a.RssBytes), a, b),
        ProcessSort.Start => static (a, b) => Tie(a.StartTicks.CompareTo(b.StartTicks), a, b),
        _ => static (a, b) => a.Pid.CompareTo(b.Pid),
    };

    public static List<ListingRow> Rows(IReadOnlyList<ProcessRecord> processes, Expression? filter, ProcessSort sort, bool tree)
    {
        var rows = new List<ListingRow>();
        var order = Order(sort);
        if (tree)
        {
            var t = new ProcessTree(processes, order);
            HashSet<int>? keep = null;
            HashSet<int>? matches = null;
            if (filter is not null) keep = t.Select(filter, out matches);
            foreach (var row in t.Rows(keep)) rows.Add(new ListingRow(row.Process, row.Depth, row.IsLastSibling, matches is null || matches.Contains(row.Process.Pid)));
            return rows;
        }
        var selected = new List<ProcessRecord>(processes.Count);
        foreach (var p in processes)
        {
            if (filter is null || filter.Matches(new ProcessFieldSource(p))) selected.Add(p);
        }
        selected.Sort(order);
        foreach (var p in selected) rows.Add(new ListingRow(p, 0, false, true));
        return rows;
    }

    private static int Tie(int c, ProcessRecord a, ProcessRecord b) => c != 0 ? c : a.Pid.CompareTo(b.Pid);
}
