using Pipeline.Processors.Decoding;
using Pipeline.Processors.Rules;
using Pipeline.Schemas.Topics;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.Stream;
using Streamiz.Kafka.Net.Table;

namespace Pipeline.Processors;

/// <summary>
/// The Streamiz topology: for each source topic that a rule reads, decode once (bad records to the
/// dead-letter topic), then per rule filter -> key by group_by -> tumbling window aggregate -> alert
/// evaluator -> <c>ops.alerts.v1</c>.
/// </summary>
public static class ProcessorTopology
{
    public const string Stage = "processors";

    public sealed record Options(string ApplicationId, string Host, TimeSpan EvaluationInterval, ProcessorActivity Activity, TimeProvider Clock);

    public static Topology Build(IReadOnlyList<ThresholdRule> rules, Options options)
    {
        var builder = new StreamBuilder();
        foreach (var source in rules.Select(r => r.Source).Distinct())
        {
            var decoded = builder
                .Stream<string, byte[]>(source.Name, new StringSerDes(), new ByteArraySerDes())
                .Transform(TransformerBuilder.New<string, byte[], string, DecodedEvent>()
                    .Transformer<DecodeTransformer>(options.Activity, options.Host)
                    .Build(), $"decode-{source.Dataset}");

            var branches = decoded.Branch(
                (_, v, _) => v.IsDeadLetter,
                (_, _, _) => true);

            branches[0]
                .MapValues((v, _) => v.DeadLetter!, $"deadletter-{source.Dataset}")
                .To(TopicCatalog.DeadLetter.Name, new StringSerDes(), new ByteArraySerDes(), $"to-deadletter-{source.Dataset}");

            foreach (var rule in rules.Where(r => r.Source == source))
            {
                var windowOptions = TumblingWindowOptions.Of(rule.Window, TimeSpan.FromSeconds(1));
                branches[1]
                    .Filter((_, v, _) => rule.Where.Matches(v.Fields), $"where-{rule.Name}")
                    .SelectKey((_, v, _) => rule.GroupKey(v.Fields), $"group-{rule.Name}")
                    .MapValues((v, _) => rule.Sample(v.Fields), $"sample-{rule.Name}")
                    .GroupByKey<StringSerDes, DoubleSerDes>(rule.StoreName)
                    .WindowedBy(windowOptions)
                    .Aggregate(
                        () => WindowAggregate.Empty,
                        (_, sample, agg) => agg.Add(sample),
                        InMemoryWindows.As<string, WindowAggregate>(rule.StoreName, Retention(rule.Window))
                            .WithKeySerdes(new StringSerDes())
                            .WithValueSerdes(new WindowAggregateSerDes())
                            .WithCachingDisabled())
                    .ToStream()
                    .Transform(TransformerBuilder.New<Windowed<string>, WindowAggregate, string, byte[]>()
                        .Transformer<AlertEvaluator>(rule, options.Host, options.EvaluationInterval, options.Clock)
                        .Build(), $"evaluate-{rule.Name}")
                    .To(TopicCatalog.Alerts.Name, new StringSerDes(), new ByteArraySerDes(), $"to-alerts-{rule.Name}");
            }
        }
        return builder.Build();
    }

    /// <summary>
    /// The internal topics Streamiz needs for these rules. On a real cluster Streamiz creates them; the
    /// embedded broker has no CreateTopics, so it must create them in advance, with the source's partitions.
    /// </summary>
    public static IEnumerable<(string Name, int Partitions)> InternalTopics(string applicationId, IEnumerable<ThresholdRule> rules)
    {
        foreach (var rule in rules)
        {
            yield return ($"{applicationId}-{rule.StoreName}-repartition", rule.Source.Partitions);
            yield return ($"{applicationId}-{rule.StoreName}-changelog", rule.Source.Partitions);
        }
    }

    private static TimeSpan Retention(TimeSpan window) => window * 3 + TimeSpan.FromMinutes(1);
}
