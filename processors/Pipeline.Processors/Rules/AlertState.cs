using System.Buffers.Binary;
using System.Text.Json;
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
    /// <summary>
    /// Windows not yet closed: start (ms) to their running aggregate. The evaluator aggregates itself, so this is the
    /// only copy of the counts. (Named "windows": state written before 2026-11-28 held bare values under "open", which
    /// is ignored when read, so an upgrade starts those windows afresh but keeps firing alerts firing.)
    /// </summary>
    [JsonPropertyName("windows")] public Dictionary<long, WindowAggregate> Open { get; set; } = [];
}

// Min and Max of a window with no sample yet are infinities, which JSON has no number for.
[JsonSourceGenerationOptions(NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(AlertState))]
internal sealed partial class AlertStateJsonContext : JsonSerializerContext;

/// <summary>
/// The store's format for <see cref="AlertState"/>: a version byte and fixed-width little-endian fields. Every changed
/// group is written at every commit, and JSON serialisation was the larger part of that cost (a profile of the
/// processors benchmark); this is a fifth of the bytes and has no reflection-shaped converter chain. States written as
/// JSON by earlier versions (they start with '{') are still read.
/// </summary>
internal static class AlertStateFormat
{
    private const byte Version1 = 1;
    private const int FixedBytes = 1 + 1 + 8 * 7 + 1 + 4; // version, flags, 7 longs/doubles, has-holding-since, window count
    private const int WindowBytes = 8 * 5;

    public static byte[] Serialize(AlertState state)
    {
        var bytes = new byte[FixedBytes + WindowBytes * state.Open.Count];
        var span = bytes.AsSpan();
        span[0] = Version1;
        span[1] = state.Firing ? (byte)1 : (byte)0;
        int at = 2;
        Long(span, ref at, state.FiringSince.UtcTicks);
        Double(span, ref at, state.HoldingValue);
        Long(span, ref at, state.LastAnnounced.UtcTicks);
        Long(span, ref at, state.LastSeenMs);
        Long(span, ref at, state.LastHoldingEndMs);
        Long(span, ref at, state.LastClosedEndMs);
        span[at++] = state.HoldingSince is null ? (byte)0 : (byte)1;
        Long(span, ref at, state.HoldingSince?.UtcTicks ?? 0);
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], state.Open.Count);
        at += 4;
        foreach (var (start, window) in state.Open)
        {
            Long(span, ref at, start);
            Long(span, ref at, window.Count);
            Double(span, ref at, window.Sum);
            Double(span, ref at, window.Min);
            Double(span, ref at, window.Max);
        }
        return bytes;
    }

    /// <summary>The state, or null when the bytes are neither this format nor the earlier JSON.</summary>
    public static AlertState? Deserialize(byte[] bytes)
    {
        if (bytes.Length > 0 && bytes[0] == (byte)'{') return JsonSerializer.Deserialize(bytes, AlertStateJsonContext.Default.AlertState);
        if (bytes.Length < FixedBytes || bytes[0] != Version1) return null;
        ReadOnlySpan<byte> span = bytes;
        int at = 2;
        var state = new AlertState
        {
            Firing = span[1] == 1,
            FiringSince = new DateTimeOffset(ReadLong(span, ref at), TimeSpan.Zero),
            HoldingValue = ReadDouble(span, ref at),
            LastAnnounced = new DateTimeOffset(ReadLong(span, ref at), TimeSpan.Zero),
            LastSeenMs = ReadLong(span, ref at),
            LastHoldingEndMs = ReadLong(span, ref at),
            LastClosedEndMs = ReadLong(span, ref at),
        };
        bool holding = span[at++] == 1;
        long holdingSince = ReadLong(span, ref at);
        if (holding) state.HoldingSince = new DateTimeOffset(holdingSince, TimeSpan.Zero);
        int windows = BinaryPrimitives.ReadInt32LittleEndian(span[at..]);
        at += 4;
        if (windows < 0 || span.Length - at < (long)windows * WindowBytes) return null;
        for (int i = 0; i < windows; i++)
        {
            long start = ReadLong(span, ref at);
            state.Open[start] = new WindowAggregate(ReadLong(span, ref at), ReadDouble(span, ref at), ReadDouble(span, ref at), ReadDouble(span, ref at));
        }
        return state;
    }

    private static void Long(Span<byte> span, ref int at, long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(span[at..], value);
        at += 8;
    }

    private static void Double(Span<byte> span, ref int at, double value)
    {
        BinaryPrimitives.WriteDoubleLittleEndian(span[at..], value);
        at += 8;
    }

    private static long ReadLong(ReadOnlySpan<byte> span, ref int at)
    {
        long value = BinaryPrimitives.ReadInt64LittleEndian(span[at..]);
        at += 8;
        return value;
    }

    private static double ReadDouble(ReadOnlySpan<byte> span, ref int at)
    {
        double value = BinaryPrimitives.ReadDoubleLittleEndian(span[at..]);
        at += 8;
        return value;
    }
}
