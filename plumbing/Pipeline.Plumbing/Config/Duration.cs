using System.Globalization;

namespace Pipeline.Plumbing.Config;

/// <summary>Durations as users write them in config: <c>500ms</c>, <c>30s</c>, <c>5m</c>, <c>1h</c>, <c>1d</c>, <c>1m30s</c>.</summary>
public static class Duration
{
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        var s = text.AsSpan().Trim();
        if (s.IsEmpty) return false;
        long totalMs = 0;
        while (!s.IsEmpty)
        {
            int digits = 0;
            while (digits < s.Length && (char.IsAsciiDigit(s[digits]) || s[digits] == '.')) digits++;
            if (digits == 0) return false;
            if (!double.TryParse(s[..digits], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number)) return false;
            s = s[digits..];
            int unitLength = 0;
            while (unitLength < s.Length && char.IsAsciiLetter(s[unitLength])) unitLength++;
            double unitMs = s[..unitLength] switch
            {
                "ms" => 1,
                "s" => 1000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                _ => -1,
            };
            if (unitMs < 0) return false;
            s = s[unitLength..];
            totalMs += (long)Math.Round(number * unitMs);
        }
        value = TimeSpan.FromMilliseconds(totalMs);
        return true;
    }

    public static TimeSpan Parse(string text)
        => TryParse(text, out var value) ? value : throw new FormatException($"'{text}' is not a duration; write e.g. 500ms, 30s, 5m, 1h");

    /// <summary>The shortest config spelling of a duration, e.g. <c>1m</c> rather than <c>60s</c>.</summary>
    public static string Format(TimeSpan value)
    {
        long ms = (long)value.TotalMilliseconds;
        if (ms == 0) return "0s";
        if (ms % 86_400_000 == 0) return $"{ms / 86_400_000}d";
        if (ms % 3_600_000 == 0) return $"{ms / 3_600_000}h";
        if (ms % 60_000 == 0) return $"{ms / 60_000}m";
        if (ms % 1000 == 0) return $"{ms / 1000}s";
        return $"{ms}ms";
    }
}
