using Pipeline.Plumbing.Telemetry;

namespace Pipeline.Processors.Rules;

/// <summary>
/// Drops and counts the events of a rule whose window is already final: older than stream time (the newest event time
/// seen) minus the window and the grace period. Counted rather than silently changing nothing or reopening a closed
/// window. One per rule per task, so stream time is per partition, as in Streamiz itself.
/// </summary>
internal struct LateEventGate(ThresholdRule rule)
{
    // How far behind stream time an event's window is final: fixed per rule, so not recomputed per event.
    private readonly long _finalAfterMs = rule is null ? 0 : (long)(rule.Window + rule.Grace).TotalMilliseconds;
    private long _streamTimeMs = long.MinValue;

    public bool Admits(long timestampMs)
    {
        if (timestampMs > _streamTimeMs) _streamTimeMs = timestampMs;
        if (timestampMs >= _streamTimeMs - _finalAfterMs) return true;
        PipelineMetrics.LateEvents.WithLabels(rule.Name).Inc();
        return false;
    }
}
