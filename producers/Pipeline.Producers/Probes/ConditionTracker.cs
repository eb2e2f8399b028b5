namespace Pipeline.Producers.Probes;

/// <summary>
/// Flap suppression for one probe's condition: it turns True only after <c>failure_threshold</c> problems
/// in a row and back to False after <c>success_threshold</c> OK results in a row. An unknown result breaks
/// both streaks and changes nothing, since it says nothing about the node. <see cref="LastTransition"/>
/// moves only when the status really flips, which is what Kubernetes expects of <c>lastTransitionTime</c>.
/// </summary>
public sealed class ConditionTracker(int failureThreshold, int successThreshold)
{
    private int _problems;
    private int _oks;

    public ConditionStatus Status { get; private set; } = ConditionStatus.Unknown;

    public DateTimeOffset LastTransition { get; private set; } = DateTimeOffset.UnixEpoch;

    /// <summary>Counts a result; true when the condition flipped because of it.</summary>
    public bool Observe(ProbeStatus result, DateTimeOffset now)
    {
        switch (result)
        {
            case ProbeStatus.Problem:
                _oks = 0;
                if (++_problems >= failureThreshold) return Set(ConditionStatus.True, now);
                return false;
            case ProbeStatus.Ok:
                _problems = 0;
                if (++_oks >= successThreshold) return Set(ConditionStatus.False, now);
                return false;
            default:
                _problems = 0;
                _oks = 0;
                return false;
        }
    }

    /// <summary>Takes over a state reported before a restart, so a restart does not fake a transition.</summary>
    public void Restore(ConditionStatus status, DateTimeOffset since)
    {
        Status = status;
        LastTransition = since;
    }

    private bool Set(ConditionStatus status, DateTimeOffset now)
    {
        if (Status == status) return false;
        Status = status;
        LastTransition = now;
        return true;
    }
}
