using System.Text.Json;
using Pipeline.Plumbing.Expressions;
using Pipeline.Plumbing.Filters;

namespace Pipeline.Processors.Decoding;

/// <summary>
/// An event read from a source topic: parsed once, then shared by every rule that looks at it. When the source's
/// filter chain ran, the rules read the chain's own model of the event (<see cref="Filtered"/>) rather than a
/// re-serialized and re-parsed copy; it is turned back into bytes only for <c>&lt;topic&gt;.filtered</c>.
/// </summary>
public sealed class DecodedEvent
{
    private byte[]? _output;

    private DecodedEvent(JsonElement root, FilterEvent? filtered, byte[] raw, string? deadLetterReason, string? error)
    {
        Root = root;
        Filtered = filtered;
        Raw = raw;
        DeadLetterReason = deadLetterReason;
        Error = error;
    }

    public JsonElement Root { get; }

    /// <summary>The event as the filter chain left it; null when no chain ran.</summary>
    public FilterEvent? Filtered { get; }

    /// <summary>The record as it was read from the source topic (what a dead letter carries).</summary>
    public byte[] Raw { get; }

    /// <summary>The event as it is now: after the filter chain when one ran, else the bytes read.</summary>
    public byte[] Output => _output ??= Filtered?.ToUtf8() ?? Raw;

    /// <summary>Set when the record could not be used: a short reason such as <c>invalid_json</c>.</summary>
    public string? DeadLetterReason { get; }
    /// <summary>The human explanation, naming the field and value at fault.</summary>
    public string? Error { get; }

    /// <summary>The serialized <c>ops.deadletter.v1</c> record, once the source position is known.</summary>
    public byte[]? DeadLetter { get; private init; }

    public DecodedEvent WithDeadLetter(byte[] deadLetter) => new(Root, Filtered, Raw, DeadLetterReason, Error) { DeadLetter = deadLetter };

    /// <summary>This event after the filter chain changed <paramref name="filtered"/> in place.</summary>
    public DecodedEvent WithFiltered(FilterEvent filtered) => new(Root, filtered, Raw, null, null);

    public bool IsDeadLetter => DeadLetterReason is not null;

    public EventFields Fields => new(Root, Filtered);

    public static DecodedEvent Valid(JsonElement root, byte[] raw) => new(root, null, raw, null, null);

    public static DecodedEvent Invalid(byte[] raw, string reason, string error) => new(default, null, raw, reason, error);
}

/// <summary>The fields rules read: the filter chain's model when it ran, else the parsed record. A struct, so no box per event.</summary>
public readonly struct EventFields(JsonElement root, FilterEvent? filtered) : IFieldSource
{
    public FieldValue Get(FieldPath path) => filtered is not null ? filtered.Get(path) : new JsonFieldSource(root).Get(path);
}
