using Pipeline.Schemas.Serialization;

namespace Pipeline.Schemas.Events;

/// <summary>The one way any stage turns a record it cannot handle into a dead letter.</summary>
public static class DeadLetters
{
    public static DeadLetterEvent Create(
        ReadOnlySpan<byte> original, string topic, int partition, long offset,
        string stage, string reason, string errorMessage, string host, DateTimeOffset now)
    {
        var id = EventIds.FromParts("deadletter", topic, partition.ToString(System.Globalization.CultureInfo.InvariantCulture),
            offset.ToString(System.Globalization.CultureInfo.InvariantCulture), stage);
        return new DeadLetterEvent
        {
            Timestamp = now,
            Event = new EventInfo { Kind = EventKinds.Event, Dataset = "ops.deadletter", Id = id },
            Host = new HostInfo { Name = host },
            Error = new ErrorInfo { Type = reason, Message = errorMessage },
            DeadLetter = new DeadLetterInfo
            {
                Stage = stage,
                Reason = reason,
                Source = new DeadLetterSource { Topic = topic, Partition = partition, Offset = offset },
                Original = Convert.ToBase64String(original),
            },
        };
    }

    public static byte[] Serialize(ReadOnlySpan<byte> original, string topic, int partition, long offset,
        string stage, string reason, string errorMessage, string host, DateTimeOffset now)
        => EventSerializer.Serialize(Create(original, topic, partition, offset, stage, reason, errorMessage, host, now));
}
