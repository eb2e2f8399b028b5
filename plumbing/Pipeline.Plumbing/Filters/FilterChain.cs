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

    // Metric children looked up once: a label lookup per dropped event would show on the hot path.
    private readonly Prometheus.Counter.Child[] _drops = Children(PipelineMetrics.FilterDrops, filters, stage);
    private readonly Prometheus.Counter.Child[] _errors = Children(PipelineMetrics.FilterErrors, filters, stage);

    private static Prometheus.Counter.Child[] Children(Prometheus.Counter counter, IReadOnlyList<(IEventFilter Filter, bool DeadLetterOnError)> filters, string stage)
    {
        var children = new Prometheus.Counter.Child[filters.Count];
        for (int i = 0; i < children.Length; i++) children[i] = counter.WithLabels(stage, filters[i].Filter.Name);
        return children;
    }

    public bool IsEmpty => filters.Count == 0;

    public int Count => filters.Count;

    /// <summary>Runs the chain. On <see cref="FilterOutcome.DeadLetter"/>, <paramref name="error"/> says which filter failed and why.</summary>
    public FilterOutcome Run(FilterEvent e, out string? error)
    {
        var outcome = Run(e, out error, out _);
        if (outcome != FilterOutcome.DeadLetter) error = null;
        return outcome;
    }

    /// <summary>
    /// Runs the chain. <paramref name="failed"/> is true when a filter threw: with <c>on_error = "pass"</c>
    /// the outcome is then <see cref="FilterOutcome.Keep"/>, and a caller that still has the event as it
    /// was before the chain should send that ("unfiltered"), since the failing filter may have changed
    /// part of it; <paramref name="error"/> then says what failed too.
    /// </summary>
    public FilterOutcome Run(FilterEvent e, out string? error, out bool failed)
    {
        error = null;
        failed = false;
        for (int i = 0; i < filters.Count; i++)
        {
            var (filter, deadLetter) = filters[i];
            try
            {
                if (!filter.Apply(e))
                {
                    _drops[i].Inc();
                    return FilterOutcome.Drop;
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _errors[i].Inc();
                failed = true;
                error = $"filter {filter.Name} failed: {ex.GetType().Name}: {ex.Message}";
                if (deadLetter) return FilterOutcome.DeadLetter;
                return FilterOutcome.Keep; // pass it on (see the overload with 'failed' for sending it unfiltered)
            }
        }
        return FilterOutcome.Keep;
    }
}
