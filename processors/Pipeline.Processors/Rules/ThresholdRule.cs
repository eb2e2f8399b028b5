using System.Globalization;
using System.Text;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Expressions;
using Pipeline.Schemas.Topics;

namespace Pipeline.Processors.Rules;

/// <summary>A <c>[[rules]]</c> entry compiled for evaluation: parsed filter, aggregate, comparison and window.</summary>
public sealed class ThresholdRule
{
    /// <summary>Separates group values in the record key; cannot appear in sane field values.</summary>
    public const char GroupSeparator = '\u001f';

    public ThresholdRule(RuleConfig config, TimeSpan? grace = null)
    {
        Grace = grace ?? TimeSpan.FromSeconds(5);
        IsAbsent = config.Kind == "absent";
        Every = config.Every.Length > 0 ? Duration.Parse(config.Every) : Duration.Parse(config.Window);
        For = Duration.Parse(config.For);
        RepeatInterval = Duration.Parse(config.RepeatInterval);
        Config = config;
        Name = config.Name;
        Source = TopicCatalog.Sources[config.Source];
        Where = Expression.Parse(config.Where);
        Aggregate = AggregateSpec.Parse(config.Aggregate);
        Window = Duration.Parse(config.Window);
        GroupBy = config.GroupBy.Select(g => new FieldPath(g)).ToArray();
        Op = config.Op;
        Threshold = config.Threshold;
    }

    public RuleConfig Config { get; }
    public string Name { get; }
    public TopicSpec Source { get; }
    public Expression Where { get; }
    public AggregateSpec Aggregate { get; }
    public TimeSpan Window { get; }
    public FieldPath[] GroupBy { get; }
    public string Op { get; }
    public double Threshold { get; }

    /// <summary>Window advance; equal to <see cref="Window"/> for tumbling windows.</summary>
    public TimeSpan Every { get; }
    public TimeSpan For { get; }
    public TimeSpan RepeatInterval { get; }
    /// <summary>How late an event may be and still count; also how long after its end a window is final.</summary>
    public TimeSpan Grace { get; }
    /// <summary>An <c>absent</c> rule fires when a group stays silent for <see cref="Window"/>.</summary>
    public bool IsAbsent { get; }

    public double ValueOf(WindowAggregate aggregate) => aggregate.Value(Aggregate.Function, Window);

    /// <summary>Prefix of the rule's Streamiz names; also names its repartition topic, when it has one.</summary>
    public string StoreName => $"rule-{Name}";

    /// <summary>Name of the evaluator's store (windows and alert state per group); also names its changelog topic.</summary>
    public string StateStoreName => $"{StoreName}-state";

    /// <summary>
    /// Whether the condition can only become true as a window fills (count/sum/max above a threshold):
    /// then it fires on the record that crosses the line, not at the end of the window.
    /// </summary>
    public bool FiresEarly => Op is ">" or ">=" && Aggregate.Function is AggregateFunction.Count or AggregateFunction.Rate or AggregateFunction.Max;

    public bool Holds(double value) => Op switch
    {
        ">" => value > Threshold,
        ">=" => value >= Threshold,
        "<" => value < Threshold,
        "<=" => value <= Threshold,
        "==" => value == Threshold,
        "!=" => value != Threshold,
        _ => false,
    };

    /// <summary>
    /// The rule groups by exactly what its source's records are keyed by (host.name): its groups are the record keys
    /// already, each in one partition, so it needs no re-keying and no repartition topic. The processors check the
    /// key of every record they read (<see cref="Decoding.EventDecoder.KeyMismatch"/>).
    /// </summary>
    public bool GroupsByRecordKey => GroupBy.Length == 1 && GroupBy[0].Text == Source.Key;

    /// <summary>The record key for an event: its group_by values joined.</summary>
    public string GroupKey<TSource>(in TSource fields) where TSource : IFieldSource
    {
        if (GroupBy.Length == 1) return fields.Get(GroupBy[0]).ToString();
        var sb = new StringBuilder();
        for (int i = 0; i < GroupBy.Length; i++)
        {
            if (i > 0) sb.Append(GroupSeparator);
            sb.Append(fields.Get(GroupBy[i]).ToString());
        }
        return sb.ToString();
    }

    /// <summary>The number the aggregate consumes from an event (1 for count), or NaN when the field is missing.</summary>
    public double Sample<TSource>(in TSource fields) where TSource : IFieldSource
    {
        if (Aggregate.Field is null) return 1;
        return fields.Get(Aggregate.Field).TryGetNumber(out var n) ? n : double.NaN;
    }

    public Dictionary<string, string> GroupValues(string key)
    {
        var values = key.Split(GroupSeparator);
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < GroupBy.Length && i < values.Length; i++) map[GroupBy[i].Text] = values[i];
        return map;
    }

    /// <summary>Fills the summary template: <c>{{value}}</c>, <c>{{threshold}}</c>, <c>{{window}}</c>, <c>{{field.path}}</c>.</summary>
    public string Summarize(double value, IReadOnlyDictionary<string, string> group, bool resolved)
    {
        var template = string.IsNullOrEmpty(Config.Summary)
            ? $"{Aggregate} was {{{{value}}}} in {{{{window}}}} (threshold {Op} {{{{threshold}}}})"
            : Config.Summary;
        var sb = new StringBuilder(template);
        sb.Replace("{{value}}", Format(value));
        sb.Replace("{{threshold}}", Format(Threshold));
        sb.Replace("{{window}}", Config.Window);
        sb.Replace("{{rule}}", Name);
        foreach (var (k, v) in group) sb.Replace("{{" + k + "}}", v);
        if (resolved) sb.Insert(0, "resolved: ");
        return sb.ToString();
    }

    public static string Format(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
