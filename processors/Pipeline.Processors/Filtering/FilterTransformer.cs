using Pipeline.Plumbing.Filters;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Processors.Decoding;
using Pipeline.Schemas.Events;
using Streamiz.Kafka.Net.Processors.Public;

namespace Pipeline.Processors.Filtering;

/// <summary>Runs the source's filter chain on each decoded event: drop it, dead-letter it, or pass it on changed.</summary>
internal sealed class FilterTransformer
{
    private readonly SourceFilterChains chains;
    private readonly string host;

    public FilterTransformer(SourceFilterChains chains, string host)
    {
        this.chains = chains;
        this.host = host;
    }

    /// <summary>
    /// <paramref name="record"/> with where it was read from: a record made by the step before in the same node
    /// (<see cref="DecodeAndFilterTransformer"/>) has none of its own, and Streamiz has no public way to give it one.
    /// </summary>
    public Record<string, DecodedEvent>? Process(Record<string, DecodedEvent> record, Confluent.Kafka.TopicPartitionOffset tpo)
    {
        var decoded = record.Value;
        if (decoded.IsDeadLetter) return record;
        var chain = chains.For(tpo.Topic);
        if (chain.IsEmpty) return record;
        var e = FilterEvent.From(decoded.Root);
        switch (chain.Run(e, out var error))
        {
            case FilterOutcome.Drop:
                return null;
            case FilterOutcome.DeadLetter:
                PipelineMetrics.DeadLetters.WithLabels(ProcessorTopology.Stage, "filter_error").Inc();
                var letter = DeadLetters.Serialize(decoded.Raw, tpo.Topic, tpo.Partition.Value, tpo.Offset.Value,
                    ProcessorTopology.Stage, "filter_error", error!, host, DateTimeOffset.UtcNow);
                return Record<string, DecodedEvent>.Create(DecodedEvent.Invalid(decoded.Raw, "filter_error", error!).WithDeadLetter(letter),
                    DeadLetterSpan.Trace(record.Headers, tpo.Topic, "filter_error"));
            default:
                return Record<string, DecodedEvent>.Create(decoded.WithFiltered(e), record.Headers);
        }
    }

}
