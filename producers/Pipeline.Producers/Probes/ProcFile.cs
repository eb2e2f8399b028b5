using System.Buffers.Text;

namespace Pipeline.Producers.Probes;

/// <summary>Reads small /proc files into a caller's buffer and picks numbers out of them, without strings.</summary>
internal static class ProcFile
{
    /// <summary>Reads up to <paramref name="buffer"/>'s length; /proc files report size 0, so read until EOF.</summary>
    public static int Read(string path, Span<byte> buffer)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        int total = 0;
        while (total < buffer.Length)
        {
            int n = RandomAccess.Read(handle, buffer[total..], total);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    /// <summary>The number after <paramref name="key"/> on the line that starts with it, e.g. <c>MemAvailable:</c> in /proc/meminfo.</summary>
    public static bool TryNumberAfter(ReadOnlySpan<byte> text, ReadOnlySpan<byte> key, out double value)
    {
        value = 0;
        int at = 0;
        while (at < text.Length)
        {
            var rest = text[at..];
            int end = rest.IndexOf((byte)'\n');
            var line = end < 0 ? rest : rest[..end];
            if (line.StartsWith(key))
            {
                var number = line[key.Length..].TrimStart((byte)' ').TrimStart((byte)'\t');
                return Utf8Parser.TryParse(number, out value, out _);
            }
            if (end < 0) break;
            at += end + 1;
        }
        return false;
    }

    /// <summary>The number in <c>name=value</c> on the line starting with <paramref name="linePrefix"/> (PSI files: <c>some avg10=1.23 ...</c>).</summary>
    public static bool TryNamedValue(ReadOnlySpan<byte> text, ReadOnlySpan<byte> linePrefix, ReadOnlySpan<byte> name, out double value)
    {
        value = 0;
        int start = text.IndexOf(linePrefix);
        if (start < 0) return false;
        var line = text[start..];
        int end = line.IndexOf((byte)'\n');
        if (end >= 0) line = line[..end];
        int at = line.IndexOf(name);
        return at >= 0 && Utf8Parser.TryParse(line[(at + name.Length)..], out value, out _);
    }
}
