namespace Pipeline.Producers.Logs;

/// <summary>
/// Finds the log level a line states near its start (<c>ERROR</c>, <c>level=warn</c>, <c>"level":"info"</c>, ...)
/// so rules can count error lines without every user writing a parser. Only the first bytes are looked at.
/// </summary>
public static class LevelSniffer
{
    private const int Window = 128;

    public static string? Sniff(ReadOnlySpan<byte> line)
    {
        var head = line.Length > Window ? line[..Window] : line;
        int i = 0;
        while (i < head.Length)
        {
            if (!IsLetter(head[i])) { i++; continue; }
            int start = i;
            while (i < head.Length && IsLetter(head[i])) i++;
            var level = Classify(head[start..i]);
            if (level is not null) return level;
        }
        return null;
    }

    private static bool IsLetter(byte b) => (uint)((b | 0x20) - 'a') <= 'z' - 'a';

    private static string? Classify(ReadOnlySpan<byte> word)
    {
        // Upper/lower/title case only: "Error" yes, "eRRor" is not a level anyone writes.
        switch (word.Length)
        {
            case 3 when Eq(word, "err"u8): return "error";
            case 4 when Eq(word, "warn"u8): return "warn";
            case 4 when Eq(word, "info"u8): return "info";
            case 4 when Eq(word, "crit"u8): return "fatal";
            case 5 when Eq(word, "error"u8): return "error";
            case 5 when Eq(word, "fatal"u8): return "fatal";
            case 5 when Eq(word, "debug"u8): return "debug";
            case 5 when Eq(word, "trace"u8): return "trace";
            case 5 when Eq(word, "panic"u8): return "fatal";
            case 7 when Eq(word, "warning"u8): return "warn";
            case 8 when Eq(word, "critical"u8): return "fatal";
            default: return null;
        }
    }

    private static bool Eq(ReadOnlySpan<byte> word, ReadOnlySpan<byte> lower)
    {
        bool allUpper = true, restLower = true;
        for (int i = 0; i < word.Length; i++)
        {
            byte b = word[i];
            if ((b | 0x20) != lower[i]) return false;
            bool upper = b < 'a';
            allUpper &= upper;
            if (i > 0) restLower &= !upper;
        }
        return allUpper || restLower;
    }
}
