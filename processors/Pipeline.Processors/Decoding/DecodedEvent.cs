using System.Text.Json;
using Pipeline.Plumbing.Expressions;

namespace Pipeline.Processors.Decoding;

/// <summary>An event read from a source topic: parsed once, then shared by every rule that looks at it.</summary>
public sealed class DecodedEvent
{
    private DecodedEvent(JsonElement root, byte[] raw, string? deadLetterReason, string? error)
    {
        Root = root;
        Raw = raw;
        DeadLetterReason = deadLetterReason;
        Error = error;
    }

    public JsonElement Root { get; }
    public byte[] Raw { get; }

    /// <summary>Set when the record could not be used: a short reason such as <c>invalid_json</c>.</summary>
    public string? DeadLetterReason { get; }
    /// <summary>The human explanation, naming the field and value at fault.</summary>
    public string? Error { get; }

    /// <summary>The serialized <c>ops.deadletter.v1</c> record, once the source position is known.</summary>
    public byte[]? DeadLetter { get; private init; }

    public DecodedEvent WithDeadLetter(byte[] deadLetter) => new(Root, Raw, DeadLetterReason, Error) { DeadLetter = deadLetter };

    public bool IsDeadLetter => DeadLetterReason is not null;

    public JsonFieldSource Fields => new(Root);

    public static DecodedEvent Valid(JsonElement root, byte[] raw) => new(root, raw, null, null);

    public static DecodedEvent Invalid(byte[] raw, string reason, string error) => new(default, raw, reason, error);
}
