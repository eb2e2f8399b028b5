using System.Buffers.Text;

namespace Pipeline.Producers.Process;

/// <summary>The fields of <c>/proc/PID/stat</c> the collector uses.</summary>
public struct StatFields
{
    public char State;
    public int Ppid;
    public uint Flags;
    public ulong UserTicks;
    public ulong SystemTicks;
    public int Nice;
    public int Threads;
    public ulong StartTicks;
    public ulong VirtualBytes;
    public long RssPages;
    /// <summary>Where <c>comm</c> sits in the buffer that was parsed.</summary>
    public int NameStart;
    public int NameLength;

    /// <summary>PF_KTHREAD: a kernel thread (no memory map, no command line).</summary>
    public readonly bool IsKernelThread => (Flags & 0x00200000) != 0;
}

/// <summary>
/// Parses <c>/proc</c> text formats from spans, without allocating. <c>/proc/PID/stat</c> is read
/// from the LAST <c>')'</c>: the name in parentheses may itself hold spaces and parentheses
/// (<c>1234 (we ird) name) S 1 ...</c>), so splitting on spaces from the start goes wrong.
/// </summary>
public static class ProcStatParser
{
    public static bool TryParseStat(ReadOnlySpan<byte> data, out StatFields fields)
    {
        fields = default;
        int open = data.IndexOf((byte)'(');
        int close = data.LastIndexOf((byte)')');
        if (open < 0 || close < open || close + 2 >= data.Length) return false;
        fields.NameStart = open + 1;
        fields.NameLength = close - open - 1;
        // After ") " come the fields numbered from 3 (state) in proc(5).
        var rest = data[(close + 2)..];
        int field = 3;
        while (!rest.IsEmpty && field <= 24)
        {
            int space = rest.IndexOf((byte)' ');
            var token = space < 0 ? rest : rest[..space];
            switch (field)
            {
                case 3: fields.State = token.IsEmpty ? '?' : (char)token[0]; break;
                case 4: if (!Utf8Parser.TryParse(token, out fields.Ppid, out _)) return false; break;
                case 9: Utf8Parser.TryParse(token, out fields.Flags, out _); break;
                case 14: Utf8Parser.TryParse(token, out fields.UserTicks, out _); break;
                case 15: Utf8Parser.TryParse(token, out fields.SystemTicks, out _); break;
                case 19: Utf8Parser.TryParse(token, out fields.Nice, out _); break;
                case 20: Utf8Parser.TryParse(token, out fields.Threads, out _); break;
                case 22: if (!Utf8Parser.TryParse(token, out fields.StartTicks, out _)) return false; break;
                case 23: Utf8Parser.TryParse(token, out fields.VirtualBytes, out _); break;
                case 24: Utf8Parser.TryParse(token, out fields.RssPages, out _); break;
            }
            if (space < 0) break;
            rest = rest[(space + 1)..];
            field++;
        }
        return field >= 22;
    }

    /// <summary>The effective uid from <c>/proc/PID/status</c> (<c>Uid: real effective saved fs</c>), or -1.</summary>
    public static int ParseEffectiveUid(ReadOnlySpan<byte> status)
    {
        var line = FindLine(status, "Uid:"u8);
        if (line.IsEmpty) return -1;
        line = SkipSpaces(line);
        int tab = line.IndexOfAny((byte)'\t', (byte)' ');
        if (tab < 0) return -1;
        line = SkipSpaces(line[tab..]);
        return Utf8Parser.TryParse(line, out int uid, out _) ? uid : -1;
    }

    /// <summary>A <c>Key: value</c> number from a file such as <c>/proc/PID/io</c>, <c>/proc/meminfo</c> or (with a space) <c>/proc/vmstat</c>.</summary>
    public static bool TryParseKeyed(ReadOnlySpan<byte> data, ReadOnlySpan<byte> key, out long value)
    {
        value = 0;
        var line = FindLine(data, key);
        return !line.IsEmpty && Utf8Parser.TryParse(SkipSpaces(line), out value, out _);
    }

    /// <summary>The count of <c>cpuN</c> lines and the boot time from <c>/proc/stat</c>.</summary>
    public static void ParseProcStat(ReadOnlySpan<byte> data, out int cpus, out long bootTimeSeconds)
    {
        cpus = 0;
        bootTimeSeconds = 0;
        while (!data.IsEmpty)
        {
            int nl = data.IndexOf((byte)'\n');
            var line = nl < 0 ? data : data[..nl];
            if (line.Length > 3 && line.StartsWith("cpu"u8) && char.IsAsciiDigit((char)line[3])) cpus++;
            else if (line.StartsWith("btime "u8)) Utf8Parser.TryParse(line[6..], out bootTimeSeconds, out _);
            if (nl < 0) break;
            data = data[(nl + 1)..];
        }
    }

    /// <summary>Seconds since boot, the first number of <c>/proc/uptime</c>.</summary>
    public static double ParseUptime(ReadOnlySpan<byte> data)
        => Utf8Parser.TryParse(data, out double seconds, out _) ? seconds : 0;

    /// <summary>The rest of the line that starts with <paramref name="key"/>, or empty.</summary>
    public static ReadOnlySpan<byte> FindLine(ReadOnlySpan<byte> data, ReadOnlySpan<byte> key)
    {
        int at = 0;
        while (at < data.Length)
        {
            var rest = data[at..];
            int nl = rest.IndexOf((byte)'\n');
            var line = nl < 0 ? rest : rest[..nl];
            if (line.StartsWith(key)) return line[key.Length..];
            if (nl < 0) break;
            at += nl + 1;
        }
        return default;
    }

    private static ReadOnlySpan<byte> SkipSpaces(ReadOnlySpan<byte> s)
    {
        int i = 0;
        while (i < s.Length && s[i] is (byte)' ' or (byte)'\t' or (byte)':') i++;
        return s[i..];
    }
}
