using System.Text;
using Pipeline.Plumbing.Expressions;

namespace Pipeline.Producers.Probes;

/// <summary>
/// One /proc/&lt;pid&gt; entry as the expression language sees it, for the <c>process</c> probe. Deliberately
/// small (the full process collector lives elsewhere): pid, ppid, name, state, command line and uid, under
/// both their short names and their ECS names (<c>name</c> or <c>process.name</c>). The command line and
/// uid are read only when the filter asks for them.
/// </summary>
internal sealed class ProcEntry : IFieldSource
{
    private readonly byte[] _buffer = new byte[4096];
    private string? _commandLine;
    private double? _uid;
    private bool _uidRead;

    public int Pid { get; private set; }
    public int ParentPid { get; private set; }
    public string Name { get; private set; } = "";
    public string State { get; private set; } = "";

    /// <summary>Points this entry at <paramref name="pid"/>; false when the process is gone or unreadable.</summary>
    public bool Load(int pid)
    {
        Pid = pid;
        _commandLine = null;
        _uid = null;
        _uidRead = false;
        int n;
        try
        {
            n = ProcFile.Read($"/proc/{pid}/stat", _buffer);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        // "pid (comm) S ppid ...": comm may hold spaces and parentheses, so split at the last ')'.
        var stat = _buffer.AsSpan(0, n);
        int open = stat.IndexOf((byte)'(');
        int close = stat.LastIndexOf((byte)')');
        if (open < 0 || close < open || close + 4 > n) return false;
        Name = Encoding.UTF8.GetString(stat[(open + 1)..close]);
        var rest = stat[(close + 2)..];
        State = ((char)rest[0]).ToString();
        rest = rest[2..];
        int space = rest.IndexOf((byte)' ');
        ParentPid = System.Buffers.Text.Utf8Parser.TryParse(space < 0 ? rest : rest[..space], out int ppid, out _) ? ppid : 0;
        return true;
    }

    public FieldValue Get(FieldPath path) => path.Text switch
    {
        "pid" or "process.pid" => FieldValue.Of(Pid),
        "ppid" or "process.parent.pid" => FieldValue.Of(ParentPid),
        "name" or "process.name" => FieldValue.Of(Name),
        "state" or "process.state" => FieldValue.Of(State),
        "cmdline" or "command_line" or "process.command_line" => FieldValue.Of(_commandLine ??= ReadCommandLine()),
        "uid" or "user.id" => Uid() is { } uid ? FieldValue.Of(uid) : FieldValue.Missing,
        _ => FieldValue.Missing,
    };

    private string ReadCommandLine()
    {
        try
        {
            int n = ProcFile.Read($"/proc/{Pid}/cmdline", _buffer);
            var span = _buffer.AsSpan(0, n).TrimEnd((byte)0);
            span.Replace((byte)0, (byte)' ');
            return Encoding.UTF8.GetString(span);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private double? Uid()
    {
        if (!_uidRead)
        {
            _uid = ReadUid();
            _uidRead = true;
        }
        return _uid;
    }

    private double? ReadUid()
    {
        try
        {
            int n = ProcFile.Read($"/proc/{Pid}/status", _buffer);
            return ProcFile.TryNumberAfter(_buffer.AsSpan(0, n), "Uid:"u8, out var uid) ? uid : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
