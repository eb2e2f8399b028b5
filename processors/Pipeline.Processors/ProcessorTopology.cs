using Pipeline.Processors.Decoding;
using Pipeline.Processors.Filtering;
using Pipeline.Processors.Rules;
using Pipeline.Schemas.Topics;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Crosscutting;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.Stream;
using Streamiz.Kafka.Net.Table;

namespace Pipeline.Processors;

/// <summary>
/// The Streamiz topology: for each source topic that a rule reads, decode and run the filter chain once (bad
/// records to the dead-letter topic), then per rule where -> key by group_by (re-partitioned only when that is
/// not the record key) -> window aggregate -> alert evaluator -> <c>ops.alerts.v1</c>.
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
            // TransformValues, not Transform: these steps keep the record key, and Streamiz re-partitions after any
            // step that may change it. Rules grouped by the key then aggregate in place (see GroupsByRecordKey).
            var decoded = builder
                .Stream<string, byte[]>(source.Name, new StringSerDes(), new ByteArraySerDes(), new EventTimeExtractor())
                .TransformValues(TransformerBuilder.New<string, byte[], string, DecodedEvent>()
                    .Transformer<DecodeTransformer>(options.Activity, options.Host, options.Logger)
                    .Build(), $"decode-{source.Dataset}")
                // Always present, so a reload can give a source a chain it did not have at startup.
                .TransformValues(TransformerBuilder.New<string, DecodedEvent, string, DecodedEvent>()
                    .Transformer<FilterTransformer>(options.Filters, options.Host)
                    .Build(), $"filter-{source.Dataset}");

            var branches = decoded.Branch(
                (_, v, _) => v.IsDeadLetter,
                (_, _, _) => true);

            branches[0]
                .MapValues((v, _) => v.DeadLetter!, $"deadletter-{source.Dataset}")
                .To(TopicCatalog.DeadLetter.Name, new StringSerDes(), new ByteArraySerDes(), $"to-deadletter-{source.Dataset}");

            if (options.WriteFiltered.Contains(source))
            {
                branches[1]
                    .MapValues((v, _) => v.Output, $"raw-{source.Dataset}")
                    .To(FilteredTopic(source), new StringSerDes(), new ByteArraySerDes(), $"to-filtered-{source.Dataset}");
            }

            foreach (var rule in rules.Where(r => r.Source == source))
            {
                var input = TransformerBuilder.New<string, DecodedEvent, string, double>().Transformer<RuleInput>(rule).Build();
                var matching = branches[1].Filter((_, v, _) => rule.Where.Matches(v.Fields), $"where-{rule.Name}");
                var grouped = rule.GroupsByRecordKey
                    ? matching
                        .TransformValues(input, $"input-{rule.Name}")
                        .GroupByKey<StringSerDes, DoubleSerDes>(rule.StoreName)
                    // Transform, which re-keys, marks the stream for a repartition before grouping. (In Streamiz 1.8.2 a
                    // MapValues or TransformValues after a re-key drops that mark, and GroupByKey would then aggregate in
                    // the wrong partition without a repartition topic; a test pins that this rule has one.)
                    : matching
                        .Transform(input, $"input-{rule.Name}")
                        .GroupByKey<StringSerDes, DoubleSerDes>(rule.StoreName);
                var windowed = rule.Hopping
                    ? grouped.WindowedBy(HoppingWindowOptions.Of(rule.Window, rule.Every, rule.Grace))
                    : grouped.WindowedBy(TumblingWindowOptions.Of(rule.Window, rule.Grace));
                windowed
                    .Aggregate(
                        () => WindowAggregate.Empty,
                        (_, sample, agg) => agg.Add(sample),
                        Materialized<string, WindowAggregate, IWindowStore<Bytes, byte[]>>
                            .Create(new HashedWindowStoreSupplier(rule.StoreName, Retention(rule), rule.Window))
                            .WithName(rule.StoreName)
                            .WithKeySerdes(new StringSerDes())
                            .WithValueSerdes(new WindowAggregateSerDes())
                            .WithCachingDisabled())
                    .ToStream()
                    .Transform(TransformerBuilder.New<Windowed<string>, WindowAggregate, string, byte[]>()
                        .Transformer<AlertEvaluator>(rule, options.Host, options.EvaluationInterval, options.Clock)
                        .StateStore(Stores.KeyValueStoreBuilder(Stores.InMemoryKeyValueStore(AlertEvaluator.StoreName(rule)), new StringSerDes(), new ByteArraySerDes())
                            .WithLoggingEnabled(null))
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
            yield return ($"{applicationId}-{rule.StoreName}-changelog", rule.Source.Partitions);
            yield return ($"{applicationId}-{AlertEvaluator.StoreName(rule)}-changelog", rule.Source.Partitions);
        }
    }

    /// <summary>
    /// How long a rule's windows are kept: long enough for the evaluator to finalise them on wall-clock time and for
    /// events late by up to the grace period; short enough that memory follows the active windows only.
    /// </summary>
    private static TimeSpan Retention(ThresholdRule rule) => rule.Window * 3 + TimeSpan.FromMinutes(2) + rule.Grace;
}
