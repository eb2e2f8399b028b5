using Pipeline.Plumbing.Expressions;

namespace Pipeline.Producers.Process;

/// <summary>A process placed in the tree: how deep it is and whether it is the last of its siblings (for drawing).</summary>
public readonly record struct TreeRow(ProcessRecord Process, int Depth, bool IsLastSibling);

/// <summary>
/// The parent/child structure of a snapshot. A process whose parent is not in the snapshot (pid 1,
/// kthreadd, or a parent that is hidden or just exited) is a root.
/// </summary>
public sealed class ProcessTree
{
    private readonly Dictionary<int, ProcessRecord> _byPid = [];
    private readonly Dictionary<int, List<ProcessRecord>> _children = [];
    private readonly List<ProcessRecord> _roots = [];
    private readonly Comparison<ProcessRecord> _order;

    public ProcessTree(IReadOnlyList<ProcessRecord> processes, Comparison<ProcessRecord>? order = null)
    {
        foreach (var p in processes) _byPid[p.Pid] = p;
        foreach (var p in processes)
        {
            if (p.Ppid != p.Pid && _byPid.ContainsKey(p.Ppid))
            {
                if (!_children.TryGetValue(p.Ppid, out var list)) _children[p.Ppid] = list = [];
                list.Add(p);
            }
            else
            {
                _roots.Add(p);
            }
        }
        _order = order ?? ((a, b) => a.Pid.CompareTo(b.Pid));
        _roots.Sort(_order);
        foreach (var list in _children.Values) list.Sort(_order);
    }

    public IReadOnlyList<ProcessRecord> Roots => _roots;

    public IReadOnlyList<ProcessRecord> ChildrenOf(int pid) => _children.TryGetValue(pid, out var list) ? list : [];

    /// <summary>
    /// The pids to show for a filter in tree mode: every match together with all its descendants, so
    /// the whole subtree under each matching process is shown.
    /// </summary>
    public HashSet<int> Select(Expression filter, out HashSet<int> matches)
    {
        matches = [];
        foreach (var p in _byPid.Values)
        {
            if (filter.Matches(new ProcessFieldSource(p))) matches.Add(p.Pid);
        }
        var keep = new HashSet<int>();
        var stack = new Stack<int>();
        foreach (int pid in matches)
        {
            stack.Push(pid);
            while (stack.Count > 0)
            {
                int current = stack.Pop();
                if (!keep.Add(current)) continue;
                foreach (var child in ChildrenOf(current)) stack.Push(child.Pid);
            }
        }
        return keep;
    }

    /// <summary>
    /// Depth-first rows for drawing. With <paramref name="keep"/>, only those processes; one whose
    /// parent is not kept is drawn as a root.
    /// </summary>
    public List<TreeRow> Rows(HashSet<int>? keep = null)
    {
        var rows = new List<TreeRow>();
        var top = new List<ProcessRecord>();
        if (keep is null)
        {
            top.AddRange(_roots);
        }
        else
        {
            foreach (int pid in keep)
            {
                var p = _byPid[pid];
                if (p.Ppid == p.Pid || !keep.Contains(p.Ppid)) top.Add(p);
            }
            top.Sort(_order);
        }
        for (int i = 0; i < top.Count; i++) Walk(top[i], 0, i == top.Count - 1, keep, rows);
        return rows;
    }

    private void Walk(ProcessRecord p, int depth, bool last, HashSet<int>? keep, List<TreeRow> rows)
    {
        rows.Add(new TreeRow(p, depth, last));
        var visible = new List<ProcessRecord>();
        Filter(ChildrenOf(p.Pid), keep, visible);
        for (int i = 0; i < visible.Count; i++) Walk(visible[i], depth + 1, i == visible.Count - 1, keep, rows);
    }

    private static void Filter(IReadOnlyList<ProcessRecord> from, HashSet<int>? keep, List<ProcessRecord> into)
    {
        foreach (var p in from)
        {
            if (keep is null || keep.Contains(p.Pid)) into.Add(p);
        }
    }
}
