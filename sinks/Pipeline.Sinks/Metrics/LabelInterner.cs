namespace Pipeline.Sinks.Metrics;

/// <summary>
/// Turns label values read from events into shared strings without allocating for values seen before (host names,
/// levels and probe names repeat on almost every event). Bounded: past <c>capacity</c> distinct values it stops
/// remembering and just allocates, so junk values cannot grow it without limit.
/// </summary>
internal sealed class LabelInterner(int capacity = 100_000)
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public string Intern(ReadOnlySpan<char> value)
    {
        var lookup = _values.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(value, out var known)) return known;
        var text = new string(value);
        if (_values.Count < capacity) _values[text] = text;
        return text;
    }
}
