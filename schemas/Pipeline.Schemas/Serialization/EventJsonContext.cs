using System.Text.Json.Serialization;
using Pipeline.Schemas.Events;

namespace Pipeline.Schemas.Serialization;

/// <summary>Source-generated System.Text.Json metadata for every contract: no reflection on the hot path.</summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    WriteIndented = false,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(LogEvent))]
[JsonSerializable(typeof(AlertEvent))]
[JsonSerializable(typeof(DeadLetterEvent))]
[JsonSerializable(typeof(ProcessEvent))]
[JsonSerializable(typeof(ProbeEvent))]
public sealed partial class EventJsonContext : JsonSerializerContext;
