using Pipeline.Plumbing.Expressions;

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
