namespace Pipeline.Sinks.Metrics;

/// <summary>The label values of one series, in the metric's label order; unused trailing values are empty.</summary>
internal readonly record struct SeriesKey(string A, string B = "", string C = "")
{
    public string[] Values(int count) => count switch
    {
        1 => [A],
        2 => [A, B],
        _ => [A, B, C],
    };
}
