using System.Buffers.Binary;
using Confluent.Kafka;
using Pipeline.Plumbing.Expressions;
using Streamiz.Kafka.Net.SerDes;

namespace Pipeline.Processors.Rules;

/// <summary>Running count/sum/min/max of one group in one window: enough for every aggregate function.</summary>
public readonly record struct WindowAggregate(long Count, double Sum, double Min, double Max)
{
    public static readonly WindowAggregate Empty = new(0, 0, double.PositiveInfinity, double.NegativeInfinity);

    public WindowAggregate Add(double sample)
    {
        if (double.IsNaN(sample)) return this;
        return new WindowAggregate(Count + 1, Sum + sample, Math.Min(Min, sample), Math.Max(Max, sample));
    }

    public double Value(AggregateFunction function, TimeSpan window) => function switch
    {
        AggregateFunction.Count => Count,
        AggregateFunction.Rate => Count / window.TotalSeconds,
        AggregateFunction.Sum => Sum,
        AggregateFunction.Avg => Count == 0 ? 0 : Sum / Count,
        AggregateFunction.Max => Count == 0 ? 0 : Max,
        AggregateFunction.Min => Count == 0 ? 0 : Min,
        _ => 0,
    };
}

/// <summary>32 bytes, fixed layout: the window store and its changelog hold these.</summary>
public sealed class WindowAggregateSerDes : AbstractSerDes<WindowAggregate>
{
    public override byte[] Serialize(WindowAggregate data, SerializationContext context)
    {
        var bytes = new byte[32];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, data.Count);
        BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(8), data.Sum);
        BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(16), data.Min);
        BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(24), data.Max);
        return bytes;
    }

    public override WindowAggregate Deserialize(byte[] data, SerializationContext context)
    {
        if (data is null || data.Length < 32) return WindowAggregate.Empty;
        return new WindowAggregate(
            BinaryPrimitives.ReadInt64LittleEndian(data),
            BinaryPrimitives.ReadDoubleLittleEndian(data.AsSpan(8)),
            BinaryPrimitives.ReadDoubleLittleEndian(data.AsSpan(16)),
            BinaryPrimitives.ReadDoubleLittleEndian(data.AsSpan(24)));
    }
}
