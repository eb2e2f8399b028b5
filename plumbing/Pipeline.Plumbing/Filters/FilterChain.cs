using Pipeline.Plumbing.Telemetry;

namespace Pipeline.Plumbing.Filters;

public enum FilterOutcome : byte { Keep, Drop, DeadLetter }

/// <summary>
/// An ordered list of filters, run the same way at the edge and in the processors. A filter that
/// throws never stops the input: the event goes on unfiltered, or to the dead-letter topic when the
/// filter says <c>on_error = "deadletter"</c>, and the failure is counted.
/// </summary>
public sealed class FilterChain(IReadOnlyList<(IEventFilter Filter, bool DeadLetterOnError)> filters, string stage)
{
    public static readonly FilterChain Empty = new([], "none");

    public bool IsEmpty => filters.Count == 0;

    public int Count => filters.Count;

    /// <summary>Runs the chain. On <see cref="FilterOutcome.DeadLetter"/>, <paramref name="error"/> says which filter failed and why.</summary>
    public FilterOutcome Run(FilterEvent e, out string? error)
    {
        error = null;
        for (int i = 0; i < filters.Count; i++)
        {
            var (filter, deadLetter) = filters[i];
            try
            {
                if (!filter.Apply(e))
                {
                    PipelineMetrics.FilterDrops.WithLabels(stage, filter.Name).Inc();
                    return FilterOutcome.Drop;
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                PipelineMetrics.FilterErrors.WithLabels(stage, filter.Name).Inc();
                if (deadLetter)
                {
                    error = $"filter {filter.Name} failed: {ex.GetType().Name}: {ex.Message}";
                    return FilterOutcome.DeadLetter;
                }
                return FilterOutcome.Keep; // pass it on as it was when the filter failed
            }
        }
        return FilterOutcome.Keep;
    }
}
