namespace Pipeline.Producers.Probes;

/// <summary>One run's result with everything a sink needs: which probe, when, how long, and the condition after it.</summary>
public sealed record ProbeReport(
    ScheduledProbe Probe,
    DateTimeOffset Time,
    ProbeResult Result,
    double DurationMs,
    ConditionStatus ConditionStatus,
    DateTimeOffset ConditionSince,
    bool ConditionFlipped);
