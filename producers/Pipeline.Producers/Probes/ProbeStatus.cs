namespace Pipeline.Producers.Probes;

/// <summary>What one probe run found, as node-problem-detector maps a check's exit code (0, 1, other).</summary>
public enum ProbeStatus : byte
{
    Ok,
    Problem,
    Unknown,
}

/// <summary>A NodeCondition's status: True means the problem the condition names is present.</summary>
public enum ConditionStatus : byte
{
    Unknown,
    False,
    True,
}

/// <summary>The wire spellings, without allocating per event.</summary>
public static class ProbeStatusText
{
    public static string Of(ProbeStatus status) => status switch
    {
        ProbeStatus.Ok => "ok",
        ProbeStatus.Problem => "problem",
        _ => "unknown",
    };

    public static string Of(ConditionStatus status) => status switch
    {
        ConditionStatus.True => "True",
        ConditionStatus.False => "False",
        _ => "Unknown",
    };

    public static ConditionStatus ParseCondition(string? text) => text switch
    {
        "True" => ConditionStatus.True,
        "False" => ConditionStatus.False,
        _ => ConditionStatus.Unknown,
    };
}
