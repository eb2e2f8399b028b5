namespace Pipeline.Plumbing.Expressions;

public enum AggregateFunction { Count, Sum, Avg, Max, Min, Rate }

/// <summary>A rule's <c>aggregate</c>: <c>count()</c>, <c>rate()</c> (events per second), <c>sum(f)</c>, <c>avg(f)</c>, <c>max(f)</c>, <c>min(f)</c>.</summary>
public sealed record AggregateSpec(AggregateFunction Function, FieldPath? Field)
{
    public static AggregateSpec Parse(string text)
    {
        var s = text.Trim();
        int open = s.IndexOf('(');
        if (open <= 0 || !s.EndsWith(')'))
            throw new ExpressionException($"'{text}' is not an aggregate; write count(), sum(field), avg(field), max(field) or min(field)", 0);
        var name = s[..open].Trim();
        var arg = s[(open + 1)..^1].Trim();
        AggregateFunction function = name switch
        {
            "count" => AggregateFunction.Count,
            "sum" => AggregateFunction.Sum,
            "avg" => AggregateFunction.Avg,
            "max" => AggregateFunction.Max,
            "min" => AggregateFunction.Min,
            "rate" => AggregateFunction.Rate,
            _ => throw new ExpressionException($"unknown aggregate '{name}'; use count, rate, sum, avg, max or min", 0),
        };
        if (function is AggregateFunction.Count or AggregateFunction.Rate)
        {
            if (arg.Length != 0) throw new ExpressionException($"{name}() takes no field", open + 1);
            return new AggregateSpec(function, null);
        }
        if (arg.Length == 0) throw new ExpressionException($"{name}() needs a field, e.g. {name}(process.cpu.pct)", open + 1);
        return new AggregateSpec(function, new FieldPath(arg));
    }

    public override string ToString() => $"{Function.ToString().ToLowerInvariant()}({Field?.Text})";
}
