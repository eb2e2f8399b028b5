using System.Text.Json.Serialization;

namespace Pipeline.Processors.Rules;

/// <summary>
/// What the evaluator remembers about one group of one rule. Kept in a changelog-backed state store,
/// so after a restart or a rebalance a firing alert stays firing (and does not fire again).
/// </summary>
internal sealed class AlertState
{
    [JsonPropertyName("firing")] public bool Firing { get; set; }
    [JsonPropertyName("firing_since")] public DateTimeOffset FiringSince { get; set; }
    /// <summary>When the condition started to hold; the alert fires once it has held for <c>for</c>.</summary>
    [JsonPropertyName("holding_since")] public DateTimeOffset? HoldingSince { get; set; }
    [JsonPropertyName("holding_value")] public double HoldingValue { get; set; }
    [JsonPropertyName("last_announced")] public DateTimeOffset LastAnnounced { get; set; }
    /// <summary>Event time of the newest event seen for the group (absent rules).</summary>
    [JsonPropertyName("last_seen_ms")] public long LastSeenMs { get; set; }
    /// <summary>End of the newest window known to have held.</summary>
    [JsonPropertyName("last_holding_end_ms")] public long LastHoldingEndMs { get; set; } = long.MinValue;
    /// <summary>End of the newest window that was closed and evaluated.</summary>
    [JsonPropertyName("last_closed_end_ms")] public long LastClosedEndMs { get; set; } = long.MinValue;
    /// <summary>Windows not yet closed: start (ms) to current value.</summary>
    [JsonPropertyName("open")] public Dictionary<long, double> Open { get; set; } = [];
}

[JsonSerializable(typeof(AlertState))]
internal sealed partial class AlertStateJsonContext : JsonSerializerContext;
