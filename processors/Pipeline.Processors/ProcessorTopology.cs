using Pipeline.Processors.Decoding;
using Pipeline.Processors.Filtering;
using Pipeline.Processors.Rules;
using Pipeline.Schemas.Topics;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.Stream;

namespace Pipeline.Processors;

/// <summary>
/// The Streamiz topology: for each source topic that a rule reads, decode and run the filter chain once (bad
/// records to the dead-letter topic), then per rule its evaluator (where, windows, alert state; after a re-key and a
/// repartition topic when it groups by something other than the record key) -> <c>ops.alerts.v1</c>.
/// </summary>
public static class ProcessorTopology
{
    public const string Stage = "processors";

    public sealed record Options(string ApplicationId, string Host, TimeSpan EvaluationInterval, ProcessorActivity Activity, TimeProvider Clock)
    {
        /// <summary>Filter chains per source topic; empty by default.</summary>
        public SourceFilterChains Filters { get; init; } = new([], new Plumbing.Filters.FilterFactory());

        public Microsoft.Extensions.Logging.ILogger Logger { get; init; } = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        /// <summary>Sources whose filtered events are also written to <c>&lt;topic&gt;.filtered</c>.</summary>
        public IReadOnlyCollection<TopicSpec> WriteFiltered { get; init; } = [];
    }

    /// <summary>Where the filtered events of a source go when <c>processors.write_filtered</c> is on.</summary>
    public static string FilteredTopic(TopicSpec source) => source.Name + ".filtered";

    public static Topology Build(IReadOnlyList<ThresholdRule> rules, Options options)
    {
        var builder = new StreamBuilder();
        foreach (var source in rules.Select(r => r.Source).Concat(options.WriteFiltered).Distinct())
        {
            // TransformValues, not Transform: this step keeps the record key, and Streamiz re-partitions after any
            // step that may change it. Rules grouped by the key then aggregate in place (see GroupsByRecordKey).
            // The filter chain is always there, so a reload can give a source a chain it did not have at startup.
            var decoded = builder
                .Stream<string, byte[]>(source.Name, new StringSerDes(), new ByteArraySerDes(), new EventTimeExtractor())
                .TransformValues(TransformerBuilder.New<string, byte[], string, DecodedEvent>()
                    .Transformer<DecodeAndFilterTransformer>(options.Activity, options.Filters, options.Host, options.Logger)
                    .Build(), $"decode-{source.Dataset}");

            // Dead letters leave by a filter rather than a Branch (two nodes per record); the steps below skip them.
            decoded
                .Filter((_, v, _) => v.IsDeadLetter, $"deadletters-{source.Dataset}")
                .MapValues((v, _) => v.DeadLetter!, $"deadletter-{source.Dataset}")
                .To(TopicCatalog.DeadLetter.Name, new StringSerDes(), new ByteArraySerDes(), $"to-deadletter-{source.Dataset}");

            if (options.WriteFiltered.Contains(source))
            {
                decoded
                    .Filter((_, v, _) => !v.IsDeadLetter, $"valid-{source.Dataset}")
                    .MapValues((v, _) => v.Output, $"raw-{source.Dataset}")
                    .To(FilteredTopic(source), new StringSerDes(), new ByteArraySerDes(), $"to-filtered-{source.Dataset}");
            }

            var keyed = rules.Where(r => r.Source == source && r.GroupsByRecordKey).ToArray();
            if (keyed.Length > 0)
            {
                // Grouped by the record key: evaluated in place, all such rules of the source in one node.
                var node = $"evaluate-{source.Dataset}";
                decoded
                    .Transform(TransformerBuilder.New<string, DecodedEvent, string, byte[]>()
                        .Transformer<KeyedRulesEvaluator>(keyed, options.Host, options.EvaluationInterval, options.Clock)
                        .Build(), node)
                    .To(TopicCatalog.Alerts.Name, new StringSerDes(), new ByteArraySerDes(), $"to-alerts-{source.Dataset}");
                foreach (var rule in keyed) builder.AddStateStore(new PersistOnFlushStoreBuilder(rule.StateStoreName), node);
            }

            foreach (var rule in rules.Where(r => r.Source == source && !r.GroupsByRecordKey))
            {
                // Re-keyed by its group, then through a repartition topic so that each group is evaluated in one task.
                decoded
                    .Filter((_, v, _) => !v.IsDeadLetter && rule.Where.Matches(v.Fields), $"where-{rule.Name}")
                    .Transform(TransformerBuilder.New<string, DecodedEvent, string, double>().Transformer<RuleInput>(rule).Build(), $"input-{rule.Name}")
                    .Repartition(Repartitioned<string, double>.As(rule.StoreName).WithKeySerdes(new StringSerDes()).WithValueSerdes(new DoubleSerDes()))
                    .Transform(TransformerBuilder.New<string, double, string, byte[]>()
                        .Transformer<RekeyedAlertEvaluator>(rule, options.Host, options.EvaluationInterval, options.Clock)
                        .StateStore(new PersistOnFlushStoreBuilder(rule.StateStoreName))
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
            if (!rule.GroupsByRecordKey) yield return ($"{applicationId}-{rule.StoreName}-repartition", rule.Source.Partitions);
            yield return ($"{applicationId}-{rule.StateStoreName}-changelog", rule.Source.Partitions);
        }
    }
}
